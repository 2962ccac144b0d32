// A budget of loop iterations (while iterations and scan steps) for one call, shared by every loop in
// it (nested loops included), so a program from an untrusted file cannot run without end: each
// backend's executor spends from it. A scan needs it too: with no sliced inputs its length is free.
import { KilnError } from './error.js';

export interface LoopBudget {
  used: number;
  readonly max: number;
}

export function loopBudget(max = Infinity): LoopBudget {
  return { used: 0, max };
}

/** Counts one iteration (call it before running a loop body); past the limit, a KilnError. */
export function spendIteration(b: LoopBudget, op: 'while' | 'scan' = 'while'): void {
  if (++b.used > b.max) {
    throw new KilnError(`${op}: more than ${b.max} loop iterations in one call (while iterations and scan steps together; does a condition never become false?): the limit is LoadOptions.maxLoopIterations`);
  }
}
