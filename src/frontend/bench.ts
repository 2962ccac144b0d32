// kiln.benchmark(fn, args): times a user's own function eagerly and under jit on the arguments' device
// and reports what jit did to it (ops traced, kernels launched, intermediate bytes, compile time).
import { KilnError } from '../ir/error.js';
import type { Function as IRFunction } from '../ir/function.js';
import { Tensor } from './tensor.js';
import { flatten } from './pytree.js';
import { defaultDevice } from './trace.js';
import { jit } from './jit/jit.js';
import type { JitOptions } from './jit/jit.js';
import { fnName, traceToFunction } from './tracing.js';

export interface BenchmarkOptions {
  /** Timed calls per mode (default 20). */
  iterations?: number;
  /** Untimed calls after the first one, per mode (default 2). */
  warmup?: number;
  /** Also time the function eagerly (default true). */
  eager?: boolean;
  /** Options for jit (static arguments, donation, ...). */
  jit?: JitOptions;
  name?: string;
}

export interface ModeTiming {
  /** The first call: eager one-op kernels compile on it; under jit it traces, optimizes and compiles. */
  firstCallMs: number;
  /** Mean of the timed calls. */
  msPerCall: number;
  minMs: number;
  medianMs: number;
  iterations: number;
}

export interface JitTiming extends ModeTiming {
  /** Tracing + passes + code generation, as jit's stats() counts it. */
  compileMs: number;
  /** Kernel launches per call (fusion kernels plus unfused ops). */
  kernels: number;
  /** Bytes of intermediates the compiled program allocates. */
  peakBytes: number;
  traces: number;
}

export interface BenchmarkResult {
  name: string;
  device: string;
  /** Primitive ops the function traces to (before optimization), nested regions included. */
  ops: number;
  eager: ModeTiming | null;
  jit: JitTiming;
  /** Median eager time over median jit time (null without an eager run). */
  speedup: number | null;
  /** A short table for the console. */
  toString(): string;
}

/** Devices whose calls finish before they return; elsewhere (WebGPU) each call waits for its outputs. */
const SYNCHRONOUS = new Set(['cpu-ref', 'wasm']);

function countOps(fn: IRFunction): number {
  let n = 0;
  const walk = (ops: IRFunction['body']['ops']) => {
    for (const op of ops) {
      n++;
      for (const r of op.regions) walk(r.ops);
    }
  };
  walk(fn.body.ops);
  return n;
}

const now = (): number => performance.now();

async function timeMode(call: () => unknown, inputs: ReadonlySet<Tensor>, device: string, iterations: number, warmup: number): Promise<ModeTiming> {
  const once = async (): Promise<number> => {
    const t0 = now();
    const out = flatten(call()).leaves;
    if (!SYNCHRONOUS.has(device)) await Promise.all(out.map((t) => t.data()));
    const ms = now() - t0;
    for (const t of out) if (!inputs.has(t)) t.dispose();
    return ms;
  };
  const firstCallMs = await once();
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await once());
  const sorted = [...times].sort((a, b) => a - b);
  return {
    firstCallMs,
    msPerCall: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    minMs: sorted[0] ?? NaN,
    medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    iterations: times.length,
  };
}

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));

function describe(r: Omit<BenchmarkResult, 'toString'>): string {
  const row = (label: string, t: ModeTiming | null) =>
    t ? `  ${label.padEnd(6)} first call ${fmtMs(t.firstCallMs).padStart(8)} ms   per call ${fmtMs(t.medianMs).padStart(8)} ms (median of ${t.iterations}, min ${fmtMs(t.minMs)})` : `  ${label.padEnd(6)} not run`;
  const j = r.jit;
  return [
    `benchmark ${r.name} on '${r.device}': ${r.ops} ops traced -> ${j.kernels} kernel${j.kernels === 1 ? '' : 's'}, ${(j.peakBytes / 1024).toFixed(1)} KiB of intermediates, compile ${fmtMs(j.compileMs)} ms`,
    row('eager', r.eager),
    row('jit', j),
    r.speedup !== null ? `  jit is ${r.speedup.toFixed(2)}x eager` : '',
  ].filter(Boolean).join('\n');
}

/**
 * Times `fn(...args)` eagerly and under jit (same device, same arguments) and reports what jit did.
 * Outputs of every call are disposed, so the function must not return its inputs' buffers for reuse.
 */
export async function benchmark(fn: (...args: any[]) => unknown, args: readonly unknown[], options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  if (typeof fn !== 'function') throw new KilnError(`benchmark: expected a function, got ${typeof fn}`);
  if (!Array.isArray(args)) throw new KilnError('benchmark: args must be the array of arguments fn is called with');
  const iterations = options.iterations ?? 20;
  const warmup = options.warmup ?? 2;
  if (!Number.isInteger(iterations) || iterations < 1) throw new KilnError(`benchmark: iterations must be a positive integer, got ${iterations}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new KilnError(`benchmark: warmup must be a non-negative integer, got ${warmup}`);
  const name = options.name ?? fnName(fn, 'fn');
  const leaves = flatten(args).leaves;
  const inputs = new Set(leaves);
  const device = options.jit?.device ?? leaves[0]?.device ?? defaultDevice();
  const ops = countOps(traceToFunction(fn, [...args], { name }).fn);

  const eager = options.eager === false ? null : await timeMode(() => fn(...args), inputs, device, iterations, warmup);
  const jitted = jit(fn, { name, ...options.jit });
  const t = await timeMode(() => jitted(...args), inputs, device, iterations, warmup);
  const s = jitted.stats();
  const result = {
    name,
    device,
    ops,
    eager,
    jit: { ...t, compileMs: s.compileMs, kernels: s.kernels, peakBytes: s.peakBytes, traces: s.traces },
    speedup: eager ? eager.medianMs / t.medianMs : null,
  };
  return { ...result, toString: () => describe(result) };
}
