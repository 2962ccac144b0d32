// Shared test data for the jit tests: seeded values (never zeros) and closeness checks.
import { expect } from 'vitest';
import { tensor, Tensor } from '../../src/index.js';

/** Deterministic values in (-scale, scale), from a small LCG: reproducible without the random ops. */
export function values(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (s / 2 ** 32) * 2 - 1;
    return (Math.abs(v) < 1e-3 ? 0.5 : v) * scale;
  });
}

function nest(flat: number[], shape: readonly number[]): any {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), rest));
}

/** A float32 tensor of the given shape with seeded values. */
export function rand(shape: readonly number[], seed: number, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(nest(values(n, seed, scale), shape));
}

export function expectClose(actual: Tensor, expected: Tensor, tol = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const a = Array.from(actual.dataSync());
  const b = Array.from(expected.dataSync());
  a.forEach((x, i) => {
    if (Math.abs(x - b[i]) > tol * (1 + Math.abs(b[i]))) {
      expect.fail(`element ${i}: ${x} vs ${b[i]} (shape [${actual.shape.join(',')}])`);
    }
  });
}

export const vals = (t: Tensor): number[] => Array.from(t.dataSync());
