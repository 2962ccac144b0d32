// What a benchmark row is (one workload, one implementation per system), how a cell is measured
// (agreement with the reference first, then benny), and the numbers a run produces.
import b from 'benny';
import type { Env, SystemId } from './systems.js';
import { agree } from './data.js';
import type { Agreement } from './data.js';

/** One system's implementation of a row's workload, set up and ready to run. */
export interface Impl {
  /** One timed call, including whatever makes the result ready (sync reads or blockUntilReady). */
  run(): void | Promise<void>;
  /** A fresh result (after at least one run), compared with the row's reference before timing. */
  result(): ArrayLike<number> | Promise<ArrayLike<number>>;
  /** Extra facts for the results page (Kiln jit: kernels, compile ms). */
  info?(): string | undefined;
  dispose?(): void;
}

export type Unit = 'GFLOP/s' | 'GB/s' | 'ms' | 'µs' | 'steps/s';

export interface Row {
  readonly id: string;
  readonly title: string;
  readonly unit: Unit;
  /** FLOPs (GFLOP/s) or bytes (GB/s) of one call. */
  readonly work?: number;
  /** Included in `--quick`. */
  readonly quick: boolean;
  /**
   * 'steady': benny times repeated calls. 'first-call': each run() builds and calls a fresh jitted
   * function; the cell is the median of a few single calls (a cold compile cannot be averaged).
   */
  readonly mode?: 'steady' | 'first-call';
  readonly tolerance: number;
  /** What every system's result must match (float64 math, or Kiln on the reference interpreter). */
  reference(env: Env): ArrayLike<number> | Promise<ArrayLike<number>>;
  /**
   * For big outputs: the flat indices the check compares (the reference holds just these values, in
   * this order), so a 16M-element reference need not be computed in JS.
   */
  readonly checked?: () => Int32Array;
  readonly impls: Partial<Record<SystemId, (env: Env) => Impl | Promise<Impl>>>;
  /** Why a system has no implementation here, printed under the table. */
  readonly missing?: Partial<Record<SystemId, string>>;
}

export interface Cell {
  system: SystemId;
  /** In the row's unit; null when the cell did not run. */
  value: number | null;
  /** Seconds per call: the best benny sample (each sample is the mean of many calls). */
  seconds?: number;
  medianSeconds?: number;
  samples?: number;
  agreement?: Agreement;
  info?: string;
  /** Why there is no number (not implemented, failed, disagreed). */
  skipped?: string;
}

export interface RowResult {
  id: string;
  title: string;
  unit: Unit;
  cells: Cell[];
}

export const HIGHER_IS_BETTER: Record<Unit, boolean> = { 'GFLOP/s': true, 'GB/s': true, 'steps/s': true, ms: false, 'µs': false };

/** Seconds per call -> the row's unit. */
export function toUnit(row: Pick<Row, 'unit' | 'work'>, seconds: number): number {
  switch (row.unit) {
    case 'GFLOP/s':
    case 'GB/s':
      return (row.work ?? 0) / seconds / 1e9;
    case 'steps/s':
      return 1 / seconds;
    case 'ms':
      return seconds * 1e3;
    case 'µs':
      return seconds * 1e6;
  }
}

export interface TimingOptions {
  /** benchmark.js: stop sampling after this many seconds (once minSamples are in). */
  maxTime: number;
  minSamples: number;
  /** Calls for a 'first-call' cell. */
  firstCalls: number;
  /** Calls (the first warm one included) for a cell slower than maxTime / 2 per call, timed without benny; 0 keeps the checked call's time. */
  slowCalls: number;
  /**
   * A checked call slower than this (seconds) is kept as the cell's time without slowCalls. --quick uses
   * it so genuinely slow cells cost one call, while a call that was slow only because it was the first
   * (worker threads starting, a fresh heap growing) still gets a warm one.
   */
  slowCallLimit?: number;
}

/** benny prints its own banner; the harness prints one line per cell instead. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

async function timeSteady(name: string, impl: Impl, t: TimingOptions): Promise<{ best: number; median: number; samples: number }> {
  const cases = { maxTime: t.maxTime, minSamples: t.minSamples, minTime: 0.05, delay: 0.002, initCount: 1 };
  const summary = await quietly(() => b.suite(name, b.add(name, () => impl.run()), b.configure({ cases })));
  const r = summary.results[0];
  if (!r || !r.completed) throw new Error('benchmark did not complete');
  return { best: r.details.min, median: r.details.median, samples: r.samples };
}

async function timeFirstCalls(impl: Impl, t: TimingOptions): Promise<{ best: number; median: number; samples: number }> {
  return timeCalls(impl, t.firstCalls);
}

// A cell whose one call takes longer than half the time budget (tfjs-cpu on big inputs): benchmark.js
// would still insist on several cycles, so it gets a few plain calls and their best (see timeCell).

async function timeCalls(impl: Impl, n: number): Promise<{ best: number; median: number; samples: number }> {
  const times: number[] = [];
  for (let i = 0; i < Math.max(1, n); i++) {
    const t0 = performance.now();
    await impl.run();
    times.push((performance.now() - t0) / 1e3);
  }
  times.sort((a, c) => a - c);
  return { best: times[0], median: times[Math.floor(times.length / 2)], samples: times.length };
}

/**
 * A steady cell: benny, unless its calls are slower than half the time budget. A slow checked call may
 * be slow only because it came first (worker threads starting on a fresh device, a heap growing), so
 * one warm call decides; calls over slowCallLimit are kept as they are (--quick).
 */
async function timeCell(name: string, impl: Impl, t: TimingOptions, firstSeconds: number): Promise<{ best: number; median: number; samples: number }> {
  const slow = (s: number) => s > t.maxTime / 2;
  const one = { best: firstSeconds, median: firstSeconds, samples: 1 };
  if (!slow(firstSeconds)) return timeSteady(name, impl, t);
  if (t.slowCalls === 0 || firstSeconds > (t.slowCallLimit ?? Infinity)) return one;
  const t0 = performance.now();
  await impl.run();
  const warm = (performance.now() - t0) / 1e3;
  if (!slow(warm)) return timeSteady(name, impl, t);
  const more = t.slowCalls > 1 ? await timeCalls(impl, t.slowCalls - 1) : { best: warm, median: warm, samples: 0 };
  return { best: Math.min(firstSeconds, warm, more.best), median: more.samples ? more.median : warm, samples: more.samples + 1 };
}

/** Sets one cell up, checks it against the reference, times it, and tears it down. */
export async function measureCell(row: Row, system: SystemId, env: Env, reference: ArrayLike<number>, t: TimingOptions): Promise<Cell> {
  const make = row.impls[system];
  if (!make) return { system, value: null, skipped: row.missing?.[system] ?? 'not implemented' };
  let impl: Impl | undefined;
  try {
    impl = await make(env);
    const t0 = performance.now();
    await impl.run();
    const firstSeconds = (performance.now() - t0) / 1e3;
    const full = await impl.result();
    const got = row.checked ? Array.from(row.checked(), (i) => full[i]) : full;
    const agreement = agree(got, reference, row.tolerance);
    if (!agreement.ok) return { system, value: null, agreement, skipped: `disagrees with the reference (${agreement.detail})` };
    const timing = row.mode === 'first-call' ? await timeFirstCalls(impl, t) : await timeCell(`${row.id} ${system}`, impl, t, firstSeconds);
    return {
      system,
      value: toUnit(row, row.mode === 'first-call' ? timing.median : timing.best),
      seconds: timing.best,
      medianSeconds: timing.median,
      samples: timing.samples,
      agreement,
      info: impl.info?.(),
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : typeof e === 'object' ? `${JSON.stringify(e)?.slice(0, 200)} (thrown, not an Error)` : String(e);
    return { system, value: null, skipped: `failed: ${msg.split('\n')[0].slice(0, 200)}` };
  } finally {
    try {
      impl?.dispose?.();
    } catch {
      // a failed cell may leave half-built state; disposal problems must not hide its message
    }
  }
}
