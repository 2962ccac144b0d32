// The helpers AutoGraph-rewritten code calls (`__ag.if_`, `__ag.lt`, ...): each decides at run time
// whether its operands are tensors; tensors go to the structured ops, everything else keeps JS meaning.
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import * as ew from '../ops/elementwise.js';
import { cond, forLoop, whileLoop } from '../control.js';

const isT = (x: unknown): x is Tensor => x instanceof Tensor;
/** Values a tensor op accepts next to a tensor; anything else (strings, null) keeps the JS operator. */
const numeric = (x: unknown) => isT(x) || typeof x === 'number' || typeof x === 'boolean';
const tensorOp = (a: unknown, b: unknown) => (isT(a) || isT(b)) && numeric(a) && numeric(b);

function truthy(x: unknown): boolean {
  if (isT(x)) {
    if (x.size !== 1) throw new KilnError(`autograph: a condition must have one element, got ${x.describe()}`);
    return Boolean(x.item());
  }
  return Boolean(x);
}

/** Adds the user's location to errors raised inside a rewritten statement. */
function at<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KilnError && !e.message.includes(where)) e.message = `${e.message} (in ${where})`;
    throw e;
  }
}

type Vals = unknown[];
type Body = (...vals: any[]) => Vals;

export const runtime = {
  /** `if` whose branches assign variables: they take and return the current values. */
  if_(test: unknown, thenFn: Body, elseFn: Body, vals: Vals, where: string): Vals {
    if (isT(test) && test.isTraced) return at(where, () => cond(test, thenFn, elseFn, ...vals));
    return truthy(test) ? thenFn(...vals) : elseFn(...vals);
  },

  /** `if` whose branches both return: the value of the taken branch. */
  ifReturn(test: unknown, thenFn: () => unknown, elseFn: () => unknown, where: string): unknown {
    if (isT(test) && test.isTraced) return at(where, () => cond(test, thenFn, elseFn));
    return truthy(test) ? thenFn() : elseFn();
  },

  /** `while`: loops in JS until the condition is a tracer, then the rest becomes one whileLoop. */
  while_(condFn: (...vals: any[]) => unknown, bodyFn: Body, vals: Vals, where: string): Vals {
    let v = vals;
    for (;;) {
      const c = condFn(...v);
      if (isT(c) && c.isTraced) {
        return at(where, () => whileLoop((carry: Vals) => condFn(...carry) as Tensor, (carry: Vals) => bodyFn(...carry), v));
      }
      if (!truthy(c)) return v;
      v = bodyFn(...v);
    }
  },

  /** `for (let i = lo; i < hi; i++)`: JS bounds run in JS; a traced bound makes a whileLoop, a concrete tensor one a forLoop. */
  for_(lo: unknown, hi: unknown, bodyFn: (i: any, ...vals: any[]) => Vals, vals: Vals, where: string): Vals {
    if (!isT(lo) && !isT(hi)) {
      let v = vals;
      for (let i = lo as number; i < (hi as number); i++) v = bodyFn(i, ...v);
      return v;
    }
    if ((isT(lo) && lo.isTraced) || (isT(hi) && hi.isTraced)) {
      return at(where, () => {
        const [, ...out] = whileLoop(
          ([i]: Vals) => ew.lt(i as Tensor, hi as Tensor),
          ([i, ...v]: Vals) => [ew.add(i as Tensor, 1), ...bodyFn(i, ...v)],
          [lo, ...vals],
        );
        return out;
      });
    }
    return at(where, () => forLoop(lo as Tensor, hi as Tensor, (i, v: Vals) => bodyFn(i, ...v), vals));
  },

  /** The test of a statement left native: tensors are read (item(), a guard under jit). */
  truth: (x: unknown): boolean => truthy(x),

  // ---- operators ----------------------------------------------------------------------------------
  lt: (a: any, b: any) => (tensorOp(a, b) ? ew.lt(a, b) : a < b),
  le: (a: any, b: any) => (tensorOp(a, b) ? ew.le(a, b) : a <= b),
  gt: (a: any, b: any) => (tensorOp(a, b) ? ew.gt(a, b) : a > b),
  ge: (a: any, b: any) => (tensorOp(a, b) ? ew.ge(a, b) : a >= b),
  seq: (a: any, b: any) => (tensorOp(a, b) ? ew.eq(a, b) : a === b),
  sne: (a: any, b: any) => (tensorOp(a, b) ? ew.ne(a, b) : a !== b),
  leq: (a: any, b: any) => (tensorOp(a, b) ? ew.eq(a, b) : a == b),
  lne: (a: any, b: any) => (tensorOp(a, b) ? ew.ne(a, b) : a != b),
  add: (a: any, b: any) => (tensorOp(a, b) ? ew.add(a, b) : a + b),
  sub: (a: any, b: any) => (tensorOp(a, b) ? ew.sub(a, b) : a - b),
  mul: (a: any, b: any) => (tensorOp(a, b) ? ew.mul(a, b) : a * b),
  div: (a: any, b: any) => (tensorOp(a, b) ? ew.div(a, b) : a / b),
  mod: (a: any, b: any) => (tensorOp(a, b) ? ew.mod(a, b) : a % b),
  pow: (a: any, b: any) => (tensorOp(a, b) ? ew.pow(a, b) : a ** b),
  neg: (a: any) => (isT(a) ? ew.neg(a) : -a),
  not: (a: any) => (isT(a) ? ew.logicalNot(a) : !a),
  /** `a && b` with b as a thunk, so JS short-circuiting survives; tensors combine with logicalAnd. */
  and(a: unknown, b: () => unknown): unknown {
    if (isT(a)) {
      const y = b();
      return ew.logicalAnd(a, isT(y) ? y : Boolean(y));
    }
    return a && b();
  },
  or(a: unknown, b: () => unknown): unknown {
    if (isT(a)) {
      const y = b();
      return ew.logicalOr(a, isT(y) ? y : Boolean(y));
    }
    return a || b();
  },
};

export type AutographRuntime = typeof runtime;
