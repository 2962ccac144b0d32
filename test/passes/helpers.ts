// Shared helpers for pass tests: run a pass on IR text (parser in, verifier, printer out), and
// random inputs for the interpreter.
import { parseFunction } from '../../src/ir/parser.js';
import { printFunction } from '../../src/ir/printer.js';
import { verify } from '../../src/ir/verify.js';
import type { Function } from '../../src/ir/function.js';
import type { HostArray } from '../../src/ir/array.js';
import { hostArray } from '../../src/ir/array.js';
import { sizeOf } from '../../src/ir/shape.js';

/** Parses `text`, runs `pass`, verifies the result and prints it. */
export function rewrite(pass: (fn: Function) => Function, text: string): string {
  const fn = parseFunction(text);
  verify(fn);
  const out = pass(fn);
  verify(out);
  return printFunction(out);
}

/** A small deterministic generator (never zeros as data). */
export function randomInputs(fn: Function, seed: number): HostArray[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return fn.body.params.map((p) => {
    const n = sizeOf(p.type.shape);
    const data = Array.from({ length: n }, () => {
      if (p.type.dtype === 'bool') return next() < 0.5 ? 1 : 0;
      if (p.type.dtype === 'int32') return Math.floor(next() * 9) - 4 || 1;
      return (next() * 4 - 2) || 0.5;
    });
    return hostArray(p.type.dtype, p.type.shape, data);
  });
}

/** Element-wise closeness (NaN equals NaN, infinities must match exactly). */
export function close(a: HostArray, b: HostArray, tol = 1e-6): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x - y) > tol * (1 + Math.abs(x))) return false;
  }
  return true;
}
