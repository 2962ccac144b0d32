// Per-kernel time of a compiled function. The wasm executable runs its launch plan as one call and
// exposes no per-kernel timer, so the profile compiles each top-level op of the fused program (a
// fusion kernel, an unfused op, a control-flow op) as its own executable on the device and times
// `run` for each, feeding it the previous kernels' real outputs. Cache effects between neighbouring
// kernels are lost; the relative cost of kernels is what this is for.
// WebGPU work is asynchronous, so its profile is profileKernelsAsync: GPU time from timestamp queries
// where the device has 'timestamp-query' (each dispatch tagged with its kernel), else wall-clock time
// from run() until the queue reports the work done, with the page saying which.
import { KilnError } from '../../ir/error.js';
import type { Function as IRFunction, Op } from '../../ir/function.js';
import { newValue } from '../../ir/function.js';
import { typeToString } from '../../ir/shape.js';
import { getDevice } from '../../codegen/device.js';
import type { Device, DeviceBuffer, Executable } from '../../codegen/device.js';
import { runPipelineWithReport } from '../../passes/pipeline.js';
import { flatten } from '../pytree.js';
import { defaultDevice } from '../trace.js';
import { traceToFunction } from '../tracing.js';
import { fnArg, listArg } from '../args.js';

export interface KernelProfile {
  /** Position among the program's top-level ops. */
  readonly index: number;
  /** Cluster index in the fused graph (fusion kernels only; see buildGraph). */
  readonly kernel?: number;
  /** 'fusion:elementwise', 'dot_general', 'while', ... */
  readonly label: string;
  /** Ops inside a fusion kernel (1 otherwise). */
  readonly ops: number;
  readonly outputs: string;
  /** Median milliseconds per run. */
  readonly ms: number;
  /** Fraction of the summed kernel time. */
  readonly share: number;
}

export interface ProfileOptions {
  /** Runs of the whole program (default 10); each kernel's time is the median. */
  iterations?: number;
  /** Device to profile on (default: the arguments' device). */
  device?: string;
}

export interface ProfileResult {
  readonly device: string;
  /** The fused function that was profiled. */
  readonly fn: IRFunction;
  readonly kernels: readonly KernelProfile[];
  readonly totalMs: number;
  /** How the numbers were taken, for the page. */
  readonly method: string;
}

/** A Function holding one op, with fresh parameters for its operands. */
function oneOpFunction(op: Op, name: string): IRFunction {
  const params = op.operands.map((v) => newValue(v.type));
  const results = op.results.map((v) => newValue(v.type));
  return { name, body: { params, ops: [{ ...op, operands: params, results }], results } };
}

const isScalarConstant = (op: Op): boolean => op.prim === 'constant' && (op.attrs as { value?: readonly number[] }).value?.length === 1;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Step {
  op: Op;
  exe: Executable;
  kernel?: number;
}

/** Each top-level op of `fn` compiled on its own. */
function compileSteps(fn: IRFunction, device: Device, inputs: readonly DeviceBuffer[]): Step[] {
  if (inputs.length !== fn.body.params.length) throw new KilnError(`profile: ${fn.name} takes ${fn.body.params.length} inputs, got ${inputs.length}`);
  const steps: Step[] = [];
  let kernel = 0;
  for (const op of fn.body.ops) {
    steps.push({ op, exe: device.compile(oneOpFunction(op, `${fn.name}_k${steps.length}`)), ...(op.prim === 'fusion' ? { kernel: kernel++ } : {}) });
  }
  return steps;
}

/**
 * One run of the program, step by step: `around(i, run)` wraps step i's launch (to time it), each step
 * reads the previous steps' real outputs; returns the buffers it made, for disposal.
 */
function runSteps(fn: IRFunction, steps: readonly Step[], inputs: readonly DeviceBuffer[], around: (i: number, run: () => DeviceBuffer[]) => DeviceBuffer[]): DeviceBuffer[] {
  const env = new Map<number, DeviceBuffer>();
  fn.body.params.forEach((p, i) => env.set(p.id, inputs[i]));
  const made: DeviceBuffer[] = [];
  steps.forEach((s, i) => {
    const ins = s.op.operands.map((v) => {
      const b = env.get(v.id);
      if (!b) throw new KilnError(`internal: profile: %${v.id} used before it is computed`);
      return b;
    });
    const outs = around(i, () => s.exe.run(ins));
    s.op.results.forEach((r, j) => env.set(r.id, outs[j]));
    made.push(...outs);
  });
  const keep = new Set(inputs);
  return [...new Set(made)].filter((b) => !keep.has(b));
}

/** What a webgpu device's runtime offers a profile (duck-typed: frontend code names no backend). */
interface TimingRuntime {
  readonly timestampQuery: boolean;
  timingTag: number;
  schedule(job: () => void): void;
  beginTiming(): void;
  endTiming(): Promise<{ dispatches: readonly { tag: number; ns: number }[]; untimed: number }>;
  finish(): Promise<void>;
}

function timingRuntime(device: Device): TimingRuntime | null {
  const rt = (device as { runtime?: Partial<TimingRuntime> }).runtime;
  return rt && typeof rt.beginTiming === 'function' && typeof rt.finish === 'function' ? (rt as TimingRuntime) : null;
}

/** Profiles an already optimized (fused) Function on `device` with these input buffers. */
export function profileFunction(fn: IRFunction, inputs: readonly DeviceBuffer[], opts: { device: string; iterations?: number }): ProfileResult {
  const device = getDevice(opts.device);
  if (timingRuntime(device)) throw new KilnError(`profileKernels: '${opts.device}' runs asynchronously, so timing run() would only time the encoding: use await profileKernelsAsync(...)`);
  const iterations = opts.iterations ?? 10;
  const steps = compileSteps(fn, device, inputs);
  const times = steps.map(() => [] as number[]);
  for (let it = 0; it < iterations; it++) {
    const made = runSteps(fn, steps, inputs, (i, run) => {
      const t0 = performance.now();
      const outs = run();
      times[i].push(performance.now() - t0);
      return outs;
    });
    for (const b of made) device.dispose(b);
  }
  return summarize(fn, steps, times, opts.device, `each top-level op of the fused program compiled as its own executable on '${opts.device}' and timed around run() (median of ${iterations} runs); the device's executables expose no per-kernel timer`);
}

/**
 * profileFunction for devices whose work completes later (webgpu): GPU time per kernel from timestamp
 * queries when the device has them, else wall-clock time per kernel until the queue is done.
 */
export async function profileFunctionAsync(fn: IRFunction, inputs: readonly DeviceBuffer[], opts: { device: string; iterations?: number }): Promise<ProfileResult> {
  const device = getDevice(opts.device);
  const rt = timingRuntime(device);
  if (!rt) return profileFunction(fn, inputs, opts);
  const iterations = opts.iterations ?? 10;
  const steps = compileSteps(fn, device, inputs);
  const times = steps.map(() => [] as number[]);
  // A warm-up run: pipelines are created (and shaders compiled) on first use.
  for (const b of runSteps(fn, steps, inputs, (_, run) => run())) device.dispose(b);
  await rt.finish();
  let untimed = 0;
  for (let it = 0; it < iterations; it++) {
    if (rt.timestampQuery) {
      rt.beginTiming();
      const made = runSteps(fn, steps, inputs, (i, run) => {
        rt.schedule(() => void (rt.timingTag = i));
        return run();
      });
      const { dispatches, untimed: u } = await rt.endTiming();
      untimed += u;
      const ns = steps.map(() => 0);
      for (const d of dispatches) ns[d.tag] += d.ns;
      ns.forEach((v, i) => times[i].push(v / 1e6));
      for (const b of made) device.dispose(b);
    } else {
      // One step at a time, each waited for: the wall-clock includes submit and completion latency.
      const env = new Map<number, DeviceBuffer>();
      fn.body.params.forEach((p, j) => env.set(p.id, inputs[j]));
      const made: DeviceBuffer[] = [];
      for (const [i, s] of steps.entries()) {
        const ins = s.op.operands.map((v) => env.get(v.id)!);
        const t0 = performance.now();
        const outs = s.exe.run(ins);
        await rt.finish();
        times[i].push(performance.now() - t0);
        s.op.results.forEach((r, j) => env.set(r.id, outs[j]));
        made.push(...outs);
      }
      for (const b of new Set(made)) if (!inputs.includes(b)) device.dispose(b);
    }
  }
  const method = rt.timestampQuery
    ? `GPU time from WebGPU timestamp queries on '${opts.device}': each dispatch in its own compute pass with timestampWrites, a kernel's time the sum of its dispatches (median of ${iterations} runs)${untimed ? `; ${untimed} dispatches past the query set went untimed` : ''}`
    : `wall-clock time on '${opts.device}' from run() until the queue reported the work done, one kernel at a time (median of ${iterations} runs): this device has no 'timestamp-query' feature, so times include submit and completion latency`;
  return summarize(fn, steps, times, opts.device, method);
}

function summarize(fn: IRFunction, steps: readonly Step[], times: readonly number[][], device: string, method: string): ProfileResult {
  const ms = times.map(median);
  const total = ms.reduce((a, b) => a + b, 0);
  const kernels = steps.map((s, i) => ({
    index: i,
    ...(s.kernel !== undefined ? { kernel: s.kernel } : {}),
    label: s.op.prim === 'fusion' ? `fusion:${String((s.op.attrs as { kind?: unknown }).kind)}` : s.op.prim,
    // As the graph counts them: scalar constants are folded into their readers' labels, not ops.
    ops: s.op.prim === 'fusion' ? s.op.regions[0].ops.filter((o) => !isScalarConstant(o)).length : 1,
    outputs: s.op.results.map((r) => typeToString(r.type)).join(', '),
    ms: ms[i],
    share: total > 0 ? ms[i] / total : 0,
  }));
  return { device, fn, kernels, totalMs: total, method };
}

/** Traces `f(...args)`, runs the pass pipeline, and profiles the fused program's kernels. */
export function profileKernels(f: (...args: any[]) => unknown, args: readonly unknown[], opts: ProfileOptions = {}): ProfileResult {
  fnArg('profileKernels', null, f);
  listArg('profileKernels', 'args', args);
  const traced = traceToFunction(f, [...args], opts.device ? { device: opts.device } : {});
  const leaves = [...flatten([...args]).leaves, ...traced.captured];
  const device = opts.device ?? leaves[0]?.device ?? defaultDevice();
  const fused = runPipelineWithReport(traced.fn).fn;
  return profileFunction(fused, leaves.map((t) => t._buf()), { device, iterations: opts.iterations });
}

/**
 * profileKernels for any device, awaited: on webgpu, GPU time per kernel from timestamp queries where
 * the device supports them (else wall-clock until the queue is done, as the result's method says).
 */
export async function profileKernelsAsync(f: (...args: any[]) => unknown, args: readonly unknown[], opts: ProfileOptions = {}): Promise<ProfileResult> {
  fnArg('profileKernelsAsync', null, f);
  listArg('profileKernelsAsync', 'args', args);
  const traced = traceToFunction(f, [...args], opts.device ? { device: opts.device } : {});
  const leaves = [...flatten([...args]).leaves, ...traced.captured];
  const device = opts.device ?? leaves[0]?.device ?? defaultDevice();
  const fused = runPipelineWithReport(traced.fn).fn;
  return profileFunctionAsync(fused, leaves.map((t) => t._buf()), { device, iterations: opts.iterations });
}
