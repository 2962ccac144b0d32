// A budget of `while` iterations for one call, shared by every loop in it (nested loops included), so
// a program from an untrusted file cannot run without end: each backend's executor spends from it.
import { KilnError } from './error.js';

export interface WhileBudget {
  used: number;
  readonly max: number;
}

export function whileBudget(max = Infinity): WhileBudget {
  return { used: 0, max };
}

/** Counts one iteration (call it before running a loop body); past the limit, a KilnError. */
export function spendIteration(b: WhileBudget): void {
  if (++b.used > b.max) {
    throw new KilnError(`while: more than ${b.max} loop iterations in one call (all while loops together; does a condition never become false?): the limit is LoadOptions.maxWhileIterations`);
  }
}
