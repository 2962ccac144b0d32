// Helpers for the public-API suites (creation, random, reduce, shape, indexing, format, methods):
// values as nested lists, closeness with a readable failure, and KilnError checks by message.
import { expect } from 'vitest';
import { KilnError, Tensor } from '../../src/index.js';

/** The tensor's dtype, shape and values, for one `toEqual` that shows all three on failure. */
export function look(t: Tensor): { dtype: string; shape: number[]; values: unknown } {
  return { dtype: t.dtype, shape: [...t.shape], values: t.tolist() };
}

/** Elementwise closeness of flat values (NaN matches NaN). */
export function expectClose(t: Tensor, expected: readonly number[], tol = 1e-5, shape?: readonly number[]): void {
  if (shape) expect([...t.shape]).toEqual([...shape]);
  const got = Array.from(t.dataSync());
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => {
    const e = expected[i];
    if (Number.isNaN(e)) return expect(g, `index ${i}`).toBeNaN();
    if (!Number.isFinite(e)) return expect(g, `index ${i}`).toBe(e);
    expect(Math.abs(g - e), `index ${i}: got ${g}, expected ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  });
}

/** `fn` throws a KilnError whose message matches every pattern. */
export function expectKilnError(fn: () => unknown, ...patterns: (string | RegExp)[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a KilnError').toBeInstanceOf(KilnError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}
