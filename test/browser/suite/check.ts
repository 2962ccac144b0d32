// A tiny in-page test runner: cases register by group, run in order, and report to window.__kiln
// (read by the playwright harness). Comparisons follow the backend contract: float32 within 1e-4
// relative for elementwise ops and reductions, 1e-3 for contractions; ints and bools exactly.
import type { HostArray } from '../../../src/ir/array.js';
import { hostArray } from '../../../src/ir/array.js';
import type { DType } from '../../../src/ir/dtype.js';
import { typeToString } from '../../../src/ir/shape.js';

export interface CaseResult {
  group: string;
  name: string;
  ok: boolean;
  detail?: string;
  ms: number;
}

type CaseFn = () => void | Promise<void>;
const cases: { group: string; name: string; fn: CaseFn }[] = [];

export function test(group: string, name: string, fn: CaseFn): void {
  cases.push({ group, name, fn });
}

export class Mismatch extends Error {}

export function expect(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Mismatch(message);
}

export async function runAll(filter?: string): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const w = window as unknown as { __kilnPartial: CaseResult[] };
  w.__kilnPartial = results;
  for (const c of cases) {
    if (filter && !`${c.group}/${c.name}`.includes(filter)) continue;
    const t0 = performance.now();
    try {
      await c.fn();
      results.push({ group: c.group, name: c.name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      const detail = e instanceof Mismatch ? e.message : String((e as Error)?.stack ?? e);
      results.push({ group: c.group, name: c.name, ok: false, detail: detail.slice(0, 8000), ms: performance.now() - t0 });
    }
  }
  return results;
}

// ---- data ------------------------------------------------------------------------------------------

/** mulberry32: a seeded generator, so every run sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Random data: floats uniform in [lo, hi) (never exactly zero), ints in [lo, hi], bools half true. */
export function randomArray(r: () => number, dtype: DType, shape: readonly number[], lo = -2, hi = 2): HostArray {
  const n = sizeOf(shape);
  const data = Array.from({ length: n }, () => {
    if (dtype === 'bool') return r() < 0.5 ? 1 : 0;
    if (dtype === 'int32') return Math.floor(lo + r() * (hi - lo + 1));
    const v = lo + r() * (hi - lo);
    return v === 0 ? 0.5 : v;
  });
  return hostArray(dtype, shape, data);
}

// ---- comparison ------------------------------------------------------------------------------------

/**
 * Elementwise closeness: |got - want| <= rtol * (|want| + floor), where floor is 1% of the largest
 * |want| (values near zero after cancellation are judged against the array's scale). NaNs must match.
 */
export function assertClose(what: string, got: HostArray, want: HostArray, rtol: number): void {
  expect(got.dtype === want.dtype, `${what}: dtype ${got.dtype}, expected ${want.dtype}`);
  expect(typeToString(got) === typeToString(want), `${what}: got ${typeToString(got)}, expected ${typeToString(want)}`);
  const exact = want.dtype !== 'float32' && want.dtype !== 'float64';
  let scale = 0;
  for (const v of want.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const floor = Math.max(1e-6, 0.01 * scale);
  for (let i = 0; i < want.data.length; i++) {
    const g = Number(got.data[i]);
    const w = Number(want.data[i]);
    if (exact) {
      expect(g === w, `${what}: element ${i} is ${g}, expected ${w}`);
      continue;
    }
    if (w !== w) {
      expect(g !== g, `${what}: element ${i} is ${g}, expected NaN`);
      continue;
    }
    if (!Number.isFinite(w)) {
      expect(g === w, `${what}: element ${i} is ${g}, expected ${w}`);
      continue;
    }
    expect(Math.abs(g - w) <= rtol * (Math.abs(w) + floor), `${what}: element ${i} is ${g}, expected ${w} (rtol ${rtol})`);
  }
}
