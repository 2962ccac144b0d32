// Trace trees: jit's answer to data-dependent JS control flow. A call is traced into segments split at
// guards (user code reading a tracer's value with item()/valueOf/dataSync); each segment compiles on
// its own, and the guard's value picks the next segment, so every path actually taken gets one trace.
//
// Values are canonical across the tree: an op's results belong to the segment that recorded it, and a
// later segment that uses one imports it as a parameter. At run time an environment (value id ->
// buffer) carries values from segment to segment. Retracing a known prefix (after an unseen guard
// value) replays the recorded ops instead of recording new ones, so the prefix keeps its values.
import type { HostArray } from '../../ir/array.js';
import { Builder } from '../../ir/builder.js';
import { KilnError } from '../../ir/error.js';
import type { Block, Function, Value } from '../../ir/function.js';
import { newValue } from '../../ir/function.js';
import type { AnyAttrs, Attrs, Primitive } from '../../ir/ops.js';
import type { DeviceBuffer, Executable } from '../../codegen/device.js';
import { getDevice } from '../../codegen/device.js';
import { runPipelineWithReport } from '../../passes/pipeline.js';
import type { PipelineReport } from '../../passes/pipeline.js';
import { Tensor } from '../tensor.js';
import { nextTraceLevel, withTrace } from '../trace.js';
import { TreeDef, flatten } from '../pytree.js';
import { IRTrace, numbersToTensors, valueOf } from '../tracing.js';
import { userSourceLine } from '../source_loc.js';

type SegmentEnd =
  | { kind: 'guard'; value: Value; why: string; line?: string }
  | { kind: 'final'; outputs: Value[]; outTree: TreeDef };

export interface Segment {
  readonly builder: Builder;
  /** Canonical values this segment reads, parallel to builder.params. */
  readonly imports: Value[];
  readonly importParam: Map<number, Value>;
  /** Ids of the values this segment's ops define. */
  readonly defined: Set<number>;
  end?: SegmentEnd;
  /** Next segment by guard value (see guardKey). */
  readonly children: Map<string, Segment>;
  /** The run-time program: the guard value or outputs, then the values later segments import. */
  compiled?: { exec: Executable; head: number; exports: Value[] };
  /** The trace-time program: every value, so any later segment can import any of them. */
  allValues?: { exec: Executable; values: Value[] };
}

/** One cache entry of a jitted function: one input signature, all its paths. */
export interface Entry {
  readonly name: string;
  readonly device: string;
  /** One canonical value per tensor leaf of the arguments. */
  readonly inputs: Value[];
  /** Lower-level tensors the function closed over, by identity. */
  readonly captures: Map<Tensor, Value>;
  root: Segment;
  /** Input leaf indices the caller donates (their buffers may be reused). */
  readonly donate: ReadonlySet<number>;
  /** Called with the milliseconds spent compiling (for jit stats). */
  readonly onCompile: (ms: number) => void;
  /** Called with the pass pipeline's report (kernels, peakBytes, per-pass ms) of each compiled segment. */
  readonly onPipeline?: (report: PipelineReport) => void;
}

export function newSegment(): Segment {
  return { builder: new Builder(), imports: [], importParam: new Map(), defined: new Set(), children: new Map() };
}

/** The segment-local stand-in for canonical value `v` (itself, or an import parameter). */
function local(seg: Segment, v: Value): Value {
  if (seg.defined.has(v.id)) return v;
  let p = seg.importParam.get(v.id);
  if (!p) {
    p = seg.builder.param(v.type);
    seg.importParam.set(v.id, p);
    seg.imports.push(v);
  }
  return p;
}

function segmentFunction(seg: Segment, name: string, results: readonly Value[]): Function {
  const body: Block = { params: [...seg.builder.params], ops: [...seg.builder.ops], results: results.map((v) => local(seg, v)) };
  return { name, body };
}

/** Canonical key of a guard's observed value: dtype plus every element (-0 kept apart from 0). */
export function guardKey(a: HostArray): string {
  return `${a.dtype}:${Array.from(a.data, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}`;
}

/** Values defined in `seg` that some later segment of any path imports. */
function exportsOf(seg: Segment): Value[] {
  const out = new Map<number, Value>();
  const visit = (s: Segment): void => {
    for (const child of s.children.values()) {
      for (const v of child.imports) if (seg.defined.has(v.id)) out.set(v.id, v);
      visit(child);
    }
  };
  visit(seg);
  return [...out.values()];
}

function timed<T>(entry: Entry, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    entry.onCompile(performance.now() - t0);
  }
}

function compileSegment(entry: Entry, seg: Segment): NonNullable<Segment['compiled']> {
  const end = seg.end;
  if (!end) throw new KilnError(`internal: jit(${entry.name}): compiling an unfinished trace segment`);
  const head = end.kind === 'guard' ? [end.value] : end.outputs;
  const exports = end.kind === 'guard' ? exportsOf(seg) : [];
  return timed(entry, () => {
    // Donation is only safe when nothing after this program reads the inputs: a guard-free function.
    const donate = end.kind === 'final' && seg === entry.root
      ? seg.imports.flatMap((v, i) => (entry.donate.has(entry.inputs.indexOf(v)) ? [i] : []))
      : [];
    const report = runPipelineWithReport(segmentFunction(seg, entry.name, [...head, ...exports]), { donate });
    entry.onPipeline?.(report);
    const fn = report.fn;
    const exec = getDevice(entry.device).compile(fn, donate.length ? { donate } : undefined);
    return { exec, head: head.length, exports };
  });
}

/** Seeds a run's environment with the argument leaves and the captured tensors. */
function seedEnv(entry: Entry, leaves: readonly Tensor[]): Map<number, DeviceBuffer> {
  const env = new Map<number, DeviceBuffer>();
  entry.inputs.forEach((v, i) => env.set(v.id, leaves[i]._buf()));
  for (const [t, v] of entry.captures) env.set(v.id, t._buf());
  return env;
}

export interface RunResult {
  outputs: Tensor[];
  outTree: TreeDef;
  /** How many guards this call passed. */
  guards: number;
}

/** Runs a recorded tree; null when a guard sees a value no trace has taken yet (then retrace). */
export function runTree(entry: Entry, leaves: readonly Tensor[]): RunResult | null {
  const env = seedEnv(entry, leaves);
  const device = getDevice(entry.device);
  let seg = entry.root;
  for (let guards = 0; ; guards++) {
    const end = seg.end;
    if (!end) return null;
    const c = (seg.compiled ??= compileSegment(entry, seg));
    const outs = c.exec.run(seg.imports.map((v) => env.get(v.id)!));
    c.exports.forEach((v, i) => env.set(v.id, outs[c.head + i]));
    if (end.kind === 'final') {
      // Outputs that are inputs or captures come back as the very same tensors.
      const known = new Map<number, Tensor>();
      entry.inputs.forEach((v, i) => known.set(v.id, leaves[i]));
      for (const [t, v] of entry.captures) known.set(v.id, t);
      const made = new Map<number, Tensor>();
      const outputs = end.outputs.map((v, i) => {
        const k = known.get(v.id) ?? made.get(v.id);
        if (k) return k;
        const t = Tensor._fromBuffer(outs[i], entry.device);
        made.set(v.id, t);
        return t;
      });
      return { outputs, outTree: end.outTree, guards };
    }
    const next = seg.children.get(guardKey(device.readSync(outs[0])));
    if (!next) return null;
    seg = next;
  }
}

/** A retrace met different ops than the recorded prefix: the function is not a pure function of its inputs. */
export class ReplayMismatch extends Error {}

/** A probe (see JitTrace.concretize) left the sibling path it was following: retrace excluding it. */
class Divergence extends Error {
  constructor(readonly parent: Segment, readonly key: string, readonly candidate: Segment) {
    super('probe diverged');
  }
}

/** Guard values remembered per guard; past this, new values still probe but are not stored. */
const MAX_GUARD_KEYS = 256;

export interface JitTraceOptions {
  strict?: boolean;
  loc?: boolean;
}

/** The trace jit runs user code under: records into segments, turns concretize into guards. */
class JitTrace extends IRTrace {
  private seg: Segment;
  private at = 0;
  private readonly ran = new Set<Segment>();
  /** The first segment this trace created (removed again if tracing fails), and its parent. */
  created?: { parent: Segment; key: string };
  readonly path: Segment[] = [];
  /** Set while following an existing sibling path for a guard value not seen before. */
  private probing?: { parent: Segment; key: string; candidate: Segment };
  /** Whether this trace recorded any new op or segment (otherwise it only probed). */
  recorded = false;

  constructor(
    private readonly entry: Entry,
    private readonly env: Map<number, DeviceBuffer>,
    private readonly jitOpts: JitTraceOptions,
    /** Sibling paths a probe already diverged from, per (guard segment, value). */
    private readonly excluded: Map<Segment, Map<string, Set<Segment>>>,
  ) {
    super(nextTraceLevel(), `jit(${entry.name})`, entry.device, { loc: jitOpts.loc });
    this.seg = entry.root;
    this.path.push(entry.root);
  }

  private get replaying(): boolean {
    return this.seg.end !== undefined;
  }

  protected override record(prim: Primitive, operands: Value[], attrs: AnyAttrs, regions: readonly Block[], loc?: string): Value[] {
    const seg = this.seg;
    if (this.replaying) {
      const op = seg.builder.ops[this.at];
      const same = op && op.prim === prim && op.operands.length === operands.length &&
        operands.every((v, i) => (seg.defined.has(v.id) ? v : seg.importParam.get(v.id)) === op.operands[i]) &&
        (prim !== 'constant' || String(op.attrs.value) === String(attrs.value));
      if (!same) this.mismatch(`retrace recorded ${prim} where ${op ? op.prim : 'the end of a segment'} was recorded before`);
      this.at++;
      return [...op.results];
    }
    this.recorded = true;
    const results = seg.builder.op(prim, operands.map((v) => local(seg, v)), attrs as Attrs<Primitive>, regions, loc);
    for (const r of results) seg.defined.add(r.id);
    return results;
  }

  protected override capture(t: Tensor): Tensor {
    let v = this.entry.captures.get(t);
    if (!v) {
      v = newValue({ dtype: t.dtype, shape: [...t.shape] });
      this.entry.captures.set(t, v);
    }
    this.env.set(v.id, t._buf());
    return this.tracer(v, t.device);
  }

  override concretize(t: Tensor, why: string): HostArray {
    this.checkOpen();
    const line = userSourceLine();
    if (this.jitOpts.strict) {
      throw new KilnError(
        `${this.name} {strict: true}: ${why} reads the value of a traced tensor ${t.describe()}${line ? ` at ${line}` : ''}; ` +
          `strict mode allows no guards. Use cond(pred, trueFn, falseFn, ...operands) or whileLoop(condFn, bodyFn, init), ` +
          `or jit(fn, {autograph: true}) to rewrite native if/while on tensors.`,
      );
    }
    const v = valueOf(t);
    const seg = this.seg;
    if (this.replaying) {
      const end = seg.end!;
      if (end.kind !== 'guard' || end.value.id !== v.id || this.at !== seg.builder.ops.length) {
        this.mismatch(`retrace read a value where the recorded trace ${end.kind === 'guard' ? 'read another one' : 'ended'}`);
      }
      this.confirmProbe();
    } else {
      local(seg, v);
      seg.end = { kind: 'guard', value: v, why, line };
    }
    const host = this.valueNow(seg, v);
    const key = guardKey(host);
    let next = seg.children.get(key);
    if (!next) {
      // A value not seen before often takes a path already recorded (`if (s > 0)` sees many values of s):
      // follow an existing sibling and only record a new segment if the ops turn out different.
      const skip = this.excluded.get(seg)?.get(key);
      const candidate = [...new Set(seg.children.values())].find((c) => c.end && !skip?.has(c));
      if (candidate) {
        next = candidate;
        this.probing = { parent: seg, key, candidate };
      } else {
        next = newSegment();
        seg.children.set(key, next);
        this.created ??= { parent: seg, key };
        this.recorded = true;
      }
    }
    this.seg = next;
    this.at = 0;
    this.path.push(next);
    return host;
  }

  private mismatch(message: string): never {
    if (this.probing) throw new Divergence(this.probing.parent, this.probing.key, this.probing.candidate);
    throw new ReplayMismatch(message);
  }

  /** The probed sibling matched up to its end: this guard value takes that path from now on. */
  private confirmProbe(): void {
    const p = this.probing;
    if (!p || this.seg !== p.candidate) return;
    if (p.parent.children.size < MAX_GUARD_KEYS) p.parent.children.set(p.key, p.candidate);
    this.probing = undefined;
  }

  /** Runs the current segment for all its values (once per trace) and reads `v`. */
  private valueNow(seg: Segment, v: Value): HostArray {
    if (!this.ran.has(seg)) {
      this.ran.add(seg);
      const all = (seg.allValues ??= timed(this.entry, () => {
        const values = seg.builder.ops.flatMap((op) => op.results);
        return { exec: getDevice(this.entry.device).compile(segmentFunction(seg, this.entry.name, values)), values };
      }));
      const outs = all.exec.run(seg.imports.map((x) => this.bufferOf(x)));
      all.values.forEach((x, i) => this.env.set(x.id, outs[i]));
    }
    return getDevice(this.entry.device).readSync(this.bufferOf(v));
  }

  private bufferOf(v: Value): DeviceBuffer {
    const b = this.env.get(v.id);
    if (!b) throw new KilnError(`internal: ${this.name}: value %${v.id} has no buffer at a guard`);
    return b;
  }

  /** Records the outputs (or, replaying, checks them) at the end of the traced call. */
  endWith(outputs: Value[], outTree: TreeDef): void {
    const seg = this.seg;
    if (this.replaying) {
      const end = seg.end!;
      if (end.kind !== 'final' || this.at !== seg.builder.ops.length || end.outputs.length !== outputs.length || end.outputs.some((v, i) => v !== outputs[i])) {
        this.mismatch('retrace ended differently from the recorded trace');
      }
      this.confirmProbe();
      return;
    }
    for (const v of outputs) local(seg, v);
    seg.end = { kind: 'final', outputs, outTree };
  }
}

/**
 * Traces one call of `call` (which receives the input tracers) into the entry's tree: replays the known
 * prefix, records the new path. Throws ReplayMismatch when the function does not trace the same way twice.
 */
export function traceIntoTree(entry: Entry, leaves: readonly Tensor[], call: (inputs: Tensor[]) => unknown, opts: JitTraceOptions): { recorded: boolean; runs: number } {
  const excluded = new Map<Segment, Map<string, Set<Segment>>>();
  for (let runs = 1; ; runs++) {
    try {
      return { recorded: traceOnce(entry, leaves, call, opts, excluded), runs };
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      const byKey = excluded.get(e.parent) ?? new Map<string, Set<Segment>>();
      excluded.set(e.parent, byKey);
      byKey.set(e.key, (byKey.get(e.key) ?? new Set()).add(e.candidate));
    }
  }
}

function traceOnce(entry: Entry, leaves: readonly Tensor[], call: (inputs: Tensor[]) => unknown, opts: JitTraceOptions, excluded: Map<Segment, Map<string, Set<Segment>>>): boolean {
  const env = seedEnv(entry, leaves);
  const trace = new JitTrace(entry, env, opts, excluded);
  const inputs = entry.inputs.map((v, i) => trace.tracer(v, leaves[i].device));
  let ok = false;
  try {
    const { leaves: outLeaves, treedef } = withTrace(trace, () => flatten(numbersToTensors(trace, call(inputs))));
    trace.endWith(outLeaves.map((t) => valueOf(t._trace === trace ? t : trace.lift(t))), treedef);
    ok = true;
  } finally {
    trace.finish();
    // A failed trace leaves no half-recorded segment behind (the user may fix the input and call again).
    if (!ok && trace.created) trace.created.parent.children.delete(trace.created.key);
    if (!ok && !entry.root.end) entry.root = newSegment();
  }
  // Earlier segments may now have to export values the new path imports: recompile them on next use.
  if (trace.recorded) for (const s of trace.path) if (s.children.size) s.compiled = undefined;
  return trace.recorded;
}

/** Number of complete paths (traces that reached the end) in the tree. */
export function countPaths(root: Segment): number {
  const seen = new Set<Segment>();
  let n = 0;
  const visit = (s: Segment): void => {
    if (seen.has(s)) return; // several guard values may share one path
    seen.add(s);
    if (s.end?.kind === 'final') n++;
    for (const c of s.children.values()) visit(c);
  };
  visit(root);
  return n;
}

/** The guard-free entry's single program as a function of the argument leaves and captures, for eager inlining. */
export function rootFunction(entry: Entry): { fn: Function; inputs: Value[] } | null {
  const end = entry.root.end;
  if (end?.kind !== 'final') return null;
  return { fn: segmentFunction(entry.root, entry.name, end.outputs), inputs: [...entry.root.imports] };
}
