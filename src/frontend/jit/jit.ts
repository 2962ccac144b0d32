// jit(fn, options): trace once per input signature, optimize, compile, replay the compiled trace tree.
// Works as a wrapper and as a TypeScript 5 class-method decorator (`@jit` or `@jit({...})`).
import { KilnError } from '../../ir/error.js';
import type { Function as IRFunction, Value } from '../../ir/function.js';
import { runPipeline } from '../../passes/pipeline.js';
import { Tensor } from '../tensor.js';
import { numberArg, show } from '../args.js';
import { currentTrace, defaultDevice } from '../trace.js';
import { isGradEnabled } from '../autograd/tape.js';
import { flatten, unflatten } from '../pytree.js';
import { fnName, inlineFunction, traceToFunction } from '../tracing.js';
import { Signature, diffSignatures, signatureOf } from './signature.js';
import { Entry, ReplayMismatch, countPaths, newSegment, rootFunction, runTree, traceIntoTree } from './trace_tree.js';
import { paramNames } from './source.js';
import { autograph } from './autograph.js';
import { newValue } from '../../ir/function.js';
import { getDevice } from '../../codegen/device.js';
import { log, logEnabled } from '../log.js';
import { checkJitOutputs, debugNansEnabled } from '../debug_nans.js';

export interface JitOptions {
  /** Arguments (positions or parameter names) that are compile-time constants; tensors in them are keyed by value. */
  static?: readonly (number | string)[];
  /** Device to compile for; defaults to the arguments' device. */
  device?: string;
  /** Arguments whose buffers the executable may reuse for outputs; the caller's tensors are disposed after the call. */
  donate?: readonly (number | string)[];
  /** Throw (naming the user's line) instead of recording a guard when traced code reads a tensor's value. */
  strict?: boolean;
  /** Rewrite native if/while/for on tensors into cond/whileLoop/forLoop (one graph for all branches). */
  autograph?: boolean;
  /** With autograph: values of the function's free variables (the rewritten function has no closure). */
  scope?: Record<string, unknown>;
  /** LRU bound on cached signatures (default 64). */
  maxEntries?: number;
  /** Name in IR and messages (default: the function's name). */
  name?: string;
  /** Record user source lines on ops. */
  loc?: boolean;
}

export interface JitStats {
  /** Calls served by compiled traces alone. */
  hits: number;
  /** Calls that traced (a new signature, or a guard value no trace had taken). */
  misses: number;
  /** Traces recorded: one per signature and per guard path taken (a trace tree keeps one per path). */
  traces: number;
  /**
   * Runs of the function under tracing that recorded nothing new: a guard value seen for the first time
   * is checked by re-running the JS (replaying the recorded ops) to learn which known path it takes.
   */
  probes: number;
  /** Milliseconds spent tracing, optimizing and compiling. */
  compileMs: number;
  /** Cached signatures. */
  entries: number;
  /** Complete traced paths over all entries (more than entries when guards branch). */
  paths: number;
  /** Calls that ran op by op because an input requires grad (so the autograd tape sees the ops). */
  eagerCalls: number;
  /** Kernel launches per call of the latest compiled program (fusion kernels + unfused ops). */
  kernels: number;
  /** Bytes of intermediates the latest compiled program allocates (its memory plan). */
  peakBytes: number;
  /** Also `<pass>Ms` (verifyMs, simplifyMs, cseMs, dceMs, fuseMs, planMs): time spent in each pass. */
  [metric: string]: number;
}

export interface Jitted<F extends (...args: any[]) => any> {
  (...args: Parameters<F>): ReturnType<F>;
  stats(): JitStats;
  /** Which part of the signature of these arguments differs from the nearest cached one. */
  explainMiss(...args: Parameters<F>): string;
  /** The optimized IR for these arguments (guard-free functions). */
  lower(...args: Parameters<F>): IRFunction;
  /** Drops every cached trace. */
  clear(): void;
  readonly fn: F;
}

const STORM_TRACES = 10;

/** Maps `static`/`donate` entries (positions or parameter names) to positions. */
function positions(what: string, name: string, list: readonly (number | string)[] | undefined, names: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const p of list ?? []) {
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0) throw new KilnError(`jit(${name}): ${what} position ${p} must be a non-negative integer`);
      out.add(p);
    } else {
      const i = names.indexOf(p);
      if (i < 0) throw new KilnError(`jit(${name}): ${what} argument '${p}' is not a parameter of ${name} (parameters: ${names.join(', ') || 'unknown'})`);
      out.add(i);
    }
  }
  return out;
}

class JitFunction {
  readonly name: string;
  private readonly target: (...args: any[]) => unknown;
  private readonly names: string[];
  private readonly staticArgs: Set<number>;
  private readonly donateArgs: Set<number>;
  private readonly cache = new Map<string, { sig: Signature; entry: Entry }>();
  private readonly counters = { hits: 0, misses: 0, traces: 0, probes: 0, compileMs: 0, eagerCalls: 0 };
  private readonly pipeline: Record<string, number> = { kernels: 0, peakBytes: 0 };
  private warnedStorm = false;

  constructor(fn: (...args: any[]) => unknown, private readonly opts: JitOptions) {
    this.name = opts.name ?? fnName(fn, 'jitted');
    this.names = paramNames(fn);
    this.staticArgs = positions('static', this.name, opts.static, this.names);
    this.donateArgs = positions('donate', this.name, opts.donate, this.names);
    if (opts.maxEntries !== undefined) numberArg(`jit(${this.name})`, 'maxEntries', opts.maxEntries, { integer: true, positive: true });
    this.target = opts.autograph ? autograph(fn, { scope: opts.scope }) : fn;
  }

  call(thisArg: unknown, args: unknown[]): unknown {
    // Inside another trace (jit in jit, grad of jit, a cond branch) the function is simply inlined.
    if (currentTrace() || flatten([thisArg, ...args]).leaves.some((t) => t.isTraced)) return this.target.apply(thisArg, args);
    const { sig, leaves } = signatureOf(thisArg, args, this.staticArgs);
    const device = this.opts.device ?? leaves[0]?.device ?? defaultDevice();
    this.checkDevices(sig, device);
    let rec = this.cache.get(sig.key);
    if (rec) {
      this.cache.delete(sig.key); // LRU: most recent last
      this.cache.set(sig.key, rec);
    } else {
      if (logEnabled('jit')) log('jit', `cache miss: ${this.describeMiss(sig)}`);
      rec = { sig, entry: this.newEntry(device, leaves, thisArg, args) };
      this.cache.set(sig.key, rec);
      while (this.cache.size > (this.opts.maxEntries ?? 64)) this.cache.delete(this.cache.keys().next().value!);
    }
    const entry = rec.entry;
    if (this.needsTape(leaves)) {
      if (!entry.root.end) this.trace(entry, thisArg, args, leaves);
      return this.runWithTape(entry, thisArg, args, leaves);
    }
    let result = runTree(entry, leaves);
    if (result) this.counters.hits++;
    else {
      if (entry.root.end) log('jit', `jit(${this.name}): a guard saw a value no trace has taken yet: tracing that path`);
      const before = this.counters.compileMs;
      this.trace(entry, thisArg, args, leaves);
      result = runTree(entry, leaves); // compiles the new path
      if (logEnabled('jit')) {
        const p = this.pipeline;
        log('jit', `jit(${this.name}): trace ${this.counters.traces}: traced, optimized and compiled in ${(this.counters.compileMs - before).toFixed(1)} ms (${this.counters.compileMs.toFixed(1)} ms in all); ${p.kernels} kernel${p.kernels === 1 ? '' : 's'}, ${p.peakBytes} bytes of intermediates`);
      }
      if (!result) throw new KilnError(`internal: jit(${this.name}): a fresh trace does not cover its own call`);
    }
    if (debugNansEnabled()) checkJitOutputs(this.name, getDevice(device), result.outputs.map((t) => t._buf()), () => this.target.apply(thisArg, args));
    this.disposeDonated(args, result.outputs);
    return unflatten(result.outTree, result.outputs);
  }

  private newEntry(device: string, leaves: Tensor[], thisArg: unknown, args: unknown[]): Entry {
    const donate = new Set<number>();
    if (this.donateArgs.size) {
      // Leaf indices of donated arguments: flatten [this, ...args] the way signatureOf does.
      let k = flatten(thisArg).leaves.length;
      args.forEach((a, i) => {
        const n = this.staticArgs.has(i) ? 0 : flatten(a).leaves.length;
        if (this.donateArgs.has(i)) for (let j = 0; j < n; j++) donate.add(k + j);
        k += n;
      });
    }
    return {
      name: this.name,
      device,
      inputs: leaves.map((t) => newValue({ dtype: t.dtype, shape: [...t.shape] })),
      captures: new Map(),
      root: newSegment(),
      donate,
      onCompile: (ms) => (this.counters.compileMs += ms),
      onPipeline: (report) => {
        this.pipeline.kernels = report.kernels;
        this.pipeline.peakBytes = report.peakBytes;
        for (const t of report.timings) this.pipeline[`${t.pass}Ms`] = (this.pipeline[`${t.pass}Ms`] ?? 0) + t.ms;
      },
    };
  }

  /** Runs the function under a jit trace, recording the path this call takes. */
  private trace(entry: Entry, thisArg: unknown, args: unknown[], leaves: Tensor[]): void {
    const { treedef } = flatten([thisArg, ...args.map((a, i) => (this.staticArgs.has(i) ? undefined : a))]);
    const call = (inputs: Tensor[]) => {
      const [self, ...dynamic] = unflatten(treedef, inputs) as unknown[];
      return this.target.apply(self, dynamic.map((a, i) => (this.staticArgs.has(i) ? args[i] : a)));
    };
    const opts = { strict: this.opts.strict, loc: this.opts.loc };
    const t0 = performance.now();
    const before = this.counters.compileMs; // compiles during the trace are inside its wall time
    this.counters.misses++;
    try {
      let r;
      try {
        r = traceIntoTree(entry, leaves, call, opts);
      } catch (e) {
        if (!(e instanceof ReplayMismatch)) throw e;
        // The function traced differently this time (it reads state that changed): start the tree over.
        entry.root = newSegment();
        entry.captures.clear();
        r = traceIntoTree(entry, leaves, call, opts);
      }
      if (r.recorded) this.counters.traces++;
      this.counters.probes += r.runs - (r.recorded ? 1 : 0);
    } finally {
      this.counters.compileMs = before + performance.now() - t0;
    }
    this.warnStorm();
  }

  private warnStorm(): void {
    const n = this.counters.traces;
    // Under KILN_LOG=jit a storm is reported at 10, 20, 40, ... traces, with what changed last.
    const k = n / STORM_TRACES;
    if (logEnabled('jit') && Number.isInteger(k) && k >= 1 && (k & (k - 1)) === 0) {
      log('jit', `jit(${this.name}): retrace storm: ${n} traces for ${this.cache.size} cached signatures and ${this.paths()} paths; jitted.explainMiss(...args) or the cache-miss lines above say what keeps changing`);
    }
    if (this.warnedStorm || this.counters.traces < STORM_TRACES) return;
    this.warnedStorm = true;
    console.warn(
      `kiln: jit(${this.name}) has traced ${this.counters.traces} times (${this.cache.size} cached signatures, ${this.paths()} paths). ` +
        `Each new shape, dtype, device, static value or guard value retraces; jitted.explainMiss(...args) says what changed.`,
    );
  }

  /** Gradients need the eager tape: the compiled trace records none, so run the traced ops one by one. */
  private needsTape(leaves: Tensor[]): boolean {
    return isGradEnabled() && leaves.some((t) => t.requiresGrad);
  }

  private runWithTape(entry: Entry, thisArg: unknown, args: unknown[], leaves: Tensor[]): unknown {
    this.counters.eagerCalls++;
    const root = rootFunction(entry);
    if (!root) return this.target.apply(thisArg, args); // guards: plain eager JS takes the right path
    const byId = new Map<number, Tensor>();
    entry.inputs.forEach((v, i) => byId.set(v.id, leaves[i]));
    for (const [t, v] of entry.captures) byId.set(v.id, t);
    const outs = inlineFunction(root.fn, root.inputs.map((v: Value) => byId.get(v.id)!));
    const end = entry.root.end as { outTree: Parameters<typeof unflatten>[0] };
    return unflatten(end.outTree, outs);
  }

  private checkDevices(sig: Signature, device: string): void {
    sig.leaves.forEach((l, i) => {
      if (l.device !== device) {
        throw new KilnError(`jit(${this.name}): input ${i} (${l.dtype}[${l.shape.join(',')}]) is on '${l.device}' but the function compiles for '${device}'; move it with t.to('${device}')`);
      }
    });
  }

  private disposeDonated(args: unknown[], outputs: Tensor[]): void {
    if (!this.donateArgs.size) return;
    const keep = new Set(outputs);
    for (const i of this.donateArgs) for (const t of flatten(args[i]).leaves) if (!keep.has(t)) t.dispose();
  }

  private paths(): number {
    let n = 0;
    for (const { entry } of this.cache.values()) n += countPaths(entry.root);
    return n;
  }

  stats(): JitStats {
    return { ...this.counters, kernels: 0, peakBytes: 0, ...this.pipeline, entries: this.cache.size, paths: this.paths() };
  }

  explainMiss(thisArg: unknown, args: unknown[]): string {
    return this.describeMiss(signatureOf(thisArg, args, this.staticArgs).sig);
  }

  /** What differs between `sig` and the nearest cached signature (explainMiss's text). */
  private describeMiss(sig: Signature): string {
    if (this.cache.has(sig.key)) return `jit(${this.name}): no miss: these arguments match a cached signature (a guard value seen for the first time still traces a new path)`;
    if (this.cache.size === 0) return `jit(${this.name}): nothing is cached yet; the first call traces`;
    let best: string[] | null = null;
    for (const { sig: old } of [...this.cache.values()].reverse()) {
      const d = diffSignatures(old, sig, this.names);
      if (!best || d.length < best.length) best = d;
    }
    return `jit(${this.name}): ${best!.length ? best!.join('; ') : 'the signature differs from every cached one'}`;
  }

  lower(thisArg: unknown, args: unknown[]): IRFunction {
    const f = (self: unknown, ...rest: unknown[]) => this.target.apply(self, rest);
    const traced = traceToFunction(f, [thisArg, ...args], { name: this.name, device: this.opts.device, loc: this.opts.loc });
    return runPipeline(traced.fn);
  }

  clear(): void {
    this.cache.clear();
  }
}

function makeJitted<F extends (...args: any[]) => any>(fn: F, opts: JitOptions): Jitted<F> {
  if (typeof fn !== 'function') throw new KilnError(`jit: expected a function, got ${typeof fn}`);
  const jf = new JitFunction(fn, opts);
  const jitted = function (this: unknown, ...args: unknown[]) {
    return jf.call(this, args);
  } as unknown as Jitted<F>;
  Object.defineProperty(jitted, 'name', { value: jf.name });
  Object.assign(jitted, {
    stats: () => jf.stats(),
    explainMiss(this: unknown, ...args: unknown[]) {
      return jf.explainMiss(this === jitted ? undefined : this, args);
    },
    lower(this: unknown, ...args: unknown[]) {
      return jf.lower(this === jitted ? undefined : this, args);
    },
    clear: () => jf.clear(),
    fn,
  });
  return jitted;
}

type MethodDecorator = <F extends (...args: any[]) => any>(method: F, context: ClassMethodDecoratorContext) => Jitted<F>;

function isMethodContext(x: unknown): x is ClassMethodDecoratorContext {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'method' && typeof (x as { addInitializer?: unknown }).addInitializer === 'function';
}

/**
 * Compiles `fn` per input signature. `jit(fn, options)` wraps a function; `@jit` and `@jit(options)`
 * decorate class methods (the instance is part of the signature: its tensors are inputs when it is a
 * registered pytree node such as an nn.Module, otherwise it is keyed by identity).
 */
export function jit<F extends (...args: any[]) => any>(fn: F, options?: JitOptions): Jitted<F>;
export function jit<F extends (...args: any[]) => any>(method: F, context: ClassMethodDecoratorContext): Jitted<F>;
export function jit(options: JitOptions): MethodDecorator;
export function jit(a: unknown, b?: unknown): unknown {
  if (typeof a === 'function') {
    if (isMethodContext(b)) return makeJitted(a as (...args: any[]) => any, { name: String(b.name) });
    return makeJitted(a as (...args: any[]) => any, (b as JitOptions | undefined) ?? {});
  }
  if (a !== undefined && (a === null || typeof a !== 'object' || Array.isArray(a))) throw new KilnError(`jit: expected a function or an options object, got ${show(a)}`);
  const opts = (a as JitOptions | undefined) ?? {};
  return ((method: (...args: any[]) => any, context: ClassMethodDecoratorContext) =>
    makeJitted(method, { name: String(context.name), ...opts })) as MethodDecorator;
}
