// Accuracy of the float32 transcendental functions of the wasm backend against Math.* (float64,
// rounded once): max error in ulps over many points, vector lanes and scalar tails alike.
import { describe, expect, it } from 'vitest';
import { hostArray } from '../../src/ir/array.js';
import type { UnaryOp } from '../../src/ir/ops.js';
import { erf, sigmoid } from '../../src/ir/interpret_scalar.js';
import { SPECIAL, rng, upload, wasm } from './helpers.js';

/** Distance in float32 ulps (a and b are float32 values); NaN only matches NaN. */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const ord = (x: number) => (x < 0 ? -2147483648 - x : x);
  return Math.abs(ord(i[0]) - ord(i[1]));
}

/** Points spread over magnitudes 1e-6..1e4 (both signs), a dense sweep near 0, and special values. */
function points(seed: number, lo = -6, hi = 4): number[] {
  const r = rng(seed);
  const xs: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const mag = 10 ** (lo + (hi - lo) * r());
    xs.push(Math.fround(r() < 0.5 ? -mag : mag));
  }
  for (let i = 0; i < 2000; i++) xs.push(Math.fround(-10 + 20 * r()));
  xs.push(...SPECIAL.map(Math.fround));
  return xs;
}

function maxUlps(op: UnaryOp, xs: number[], ref: (x: number) => number): { max: number; at: number } {
  const x = hostArray('float32', [xs.length], xs);
  const [out] = wasm.execute(op, [upload(x)], {}, []);
  const got = wasm.readSync(out).data;
  let max = 0;
  let at = NaN;
  xs.forEach((v, i) => {
    const want = Math.fround(ref(v));
    // Results below the smallest normal are compared absolutely (a subnormal ulp is not a relative error).
    const e = Math.abs(want) < 1.2e-38 && Math.abs(got[i]) < 1.2e-38 ? 0 : ulps(got[i], want);
    if (e > max) {
      max = e;
      at = v;
    }
  });
  return { max, at };
}

describe('transcendentals within a few ulps of Math.*', () => {
  const cases: [UnaryOp, (x: number) => number, number, number?, number?][] = [
    ['exp', Math.exp, 2, -6, 2.1],
    ['expm1', Math.expm1, 2, -6, 2.1],
    ['log', Math.log, 2, -30, 30],
    ['log1p', Math.log1p, 2, -6, 6],
    ['tanh', Math.tanh, 3],
    ['sigmoid', sigmoid, 3],
    ['sin', Math.sin, 2, -6, 6],
    ['cos', Math.cos, 2, -6, 6],
    ['erf', erf, 3],
    ['sqrt', Math.sqrt, 0],
    ['rsqrt', (x) => 1 / Math.sqrt(x), 2],
  ];
  for (const [op, ref, limit, lo, hi] of cases) {
    it(`${op} (max ${limit} ulp)`, () => {
      const { max, at } = maxUlps(op, points(op.length * 7919, lo, hi), ref);
      expect(max, `${op}: ${max} ulp at x = ${at}`).toBeLessThanOrEqual(limit);
    });
  }

  it('sin and cos of huge arguments use an exact reduction', () => {
    const xs = [1e6, -3e6, 123456789, 1e10, 3.4e38, -2.5e30, 6.5e7, 2 ** 100].map(Math.fround);
    expect(maxUlps('sin', xs, Math.sin).max).toBeLessThanOrEqual(2);
    expect(maxUlps('cos', xs, Math.cos).max).toBeLessThanOrEqual(2);
  });

  it('atan2 and pow over a grid', () => {
    const r = rng(5);
    const a = Array.from({ length: 3001 }, () => Math.fround((r() - 0.5) * 10 ** (4 * r() - 2)));
    const b = Array.from({ length: 3001 }, () => Math.fround((r() - 0.5) * 10 ** (4 * r() - 2)));
    const run = (op: 'atan2' | 'pow', x: number[], y: number[]) => {
      const [out] = wasm.execute(op, [upload(hostArray('float32', [x.length], x)), upload(hostArray('float32', [y.length], y))], {}, []);
      return wasm.readSync(out).data;
    };
    const at = run('atan2', a, b);
    expect(Math.max(...a.map((y, i) => ulps(at[i], Math.fround(Math.atan2(y, b[i])))))).toBeLessThanOrEqual(3);
    const base = a.map(Math.abs);
    const exps = b.map((y) => Math.fround(y / 10));
    const pw = run('pow', base, exps);
    expect(Math.max(...base.map((x, i) => ulps(pw[i], Math.fround(x ** exps[i]))))).toBeLessThanOrEqual(1);
  });
});
