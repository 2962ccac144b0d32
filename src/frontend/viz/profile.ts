// Per-kernel time of a compiled function. The wasm executable runs its launch plan as one call and
// exposes no per-kernel timer, so the profile compiles each top-level op of the fused program (a
// fusion kernel, an unfused op, a control-flow op) as its own executable on the device and times
// `run` for each, feeding it the previous kernels' real outputs. Cache effects between neighbouring
// kernels are lost; the relative cost of kernels is what this is for.
import { KilnError } from '../../ir/error.js';
import type { Function as IRFunction, Op } from '../../ir/function.js';
import { newValue } from '../../ir/function.js';
import { typeToString } from '../../ir/shape.js';
import { getDevice } from '../../codegen/device.js';
import type { DeviceBuffer, Executable } from '../../codegen/device.js';
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Profiles an already optimized (fused) Function on `device` with these input buffers. */
export function profileFunction(fn: IRFunction, inputs: readonly DeviceBuffer[], opts: { device: string; iterations?: number }): ProfileResult {
  const device = getDevice(opts.device);
  const iterations = opts.iterations ?? 10;
  if (inputs.length !== fn.body.params.length) throw new KilnError(`profile: ${fn.name} takes ${fn.body.params.length} inputs, got ${inputs.length}`);
  const steps: { op: Op; exe: Executable; kernel?: number }[] = [];
  let kernel = 0;
  for (const op of fn.body.ops) {
    steps.push({ op, exe: device.compile(oneOpFunction(op, `${fn.name}_k${steps.length}`)), ...(op.prim === 'fusion' ? { kernel: kernel++ } : {}) });
  }
  const times = steps.map(() => [] as number[]);
  for (let it = 0; it < iterations; it++) {
    const env = new Map<number, DeviceBuffer>();
    fn.body.params.forEach((p, i) => env.set(p.id, inputs[i]));
    const made: DeviceBuffer[] = [];
    steps.forEach((s, i) => {
      const ins = s.op.operands.map((v) => {
        const b = env.get(v.id);
        if (!b) throw new KilnError(`internal: profile: %${v.id} used before it is computed`);
        return b;
      });
      const t0 = performance.now();
      const outs = s.exe.run(ins);
      times[i].push(performance.now() - t0);
      s.op.results.forEach((r, j) => env.set(r.id, outs[j]));
      made.push(...outs);
    });
    const keep = new Set(inputs);
    for (const b of new Set(made)) if (!keep.has(b)) device.dispose(b);
  }
  const ms = times.map(median);
  const total = ms.reduce((a, b) => a + b, 0);
  const kernels = steps.map((s, i) => ({
    index: i,
    ...(s.kernel !== undefined ? { kernel: s.kernel } : {}),
    label: s.op.prim === 'fusion' ? `fusion:${String((s.op.attrs as { kind?: unknown }).kind)}` : s.op.prim,
    ops: s.op.prim === 'fusion' ? s.op.regions[0].ops.length : 1,
    outputs: s.op.results.map((r) => typeToString(r.type)).join(', '),
    ms: ms[i],
    share: total > 0 ? ms[i] / total : 0,
  }));
  return {
    device: opts.device,
    fn,
    kernels,
    totalMs: total,
    method: `each top-level op of the fused program compiled as its own executable on '${opts.device}' and timed around run() (median of ${iterations} runs); the device's executables expose no per-kernel timer`,
  };
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
