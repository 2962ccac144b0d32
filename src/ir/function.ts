// The SSA IR: a Function is a Block; a Block has typed parameters, ordered ops and results;
// an Op has operands, plain-data attributes, results, and (for control flow) regions that are Blocks.
import type { AnyAttrs, Primitive } from './ops.js';
import type { TensorType } from './shape.js';
import { KilnError } from './error.js';

export interface Value {
  readonly id: number;
  readonly type: TensorType;
  /** Optional readable name (function parameters); the printer falls back to numbers. */
  readonly name?: string;
}

export interface Op {
  readonly prim: Primitive;
  readonly operands: readonly Value[];
  readonly attrs: AnyAttrs;
  readonly results: readonly Value[];
  readonly regions: readonly Block[];
  /** Where in user code the op was recorded (`file:line:col`), for error messages. */
  readonly loc?: string;
}

export interface Block {
  readonly params: readonly Value[];
  readonly ops: readonly Op[];
  readonly results: readonly Value[];
}

export interface Function {
  readonly name: string;
  readonly body: Block;
}

let nextId = 0;
/** A fresh SSA value; ids are unique process-wide so values from nested builders never collide. */
export function newValue(type: TensorType, name?: string): Value {
  return name === undefined ? { id: nextId++, type } : { id: nextId++, type, name };
}

/** Public entry points that take an IR Function reject anything else with a KilnError naming them. */
export function checkFunction(op: string, fn: unknown): asserts fn is Function {
  const f = fn as { body?: { params?: unknown; ops?: unknown; results?: unknown } } | null;
  if (f !== null && typeof f === 'object' && f.body && Array.isArray(f.body.params) && Array.isArray(f.body.ops) && Array.isArray(f.body.results)) return;
  let shown: string;
  try {
    shown = JSON.stringify(fn) ?? String(fn);
  } catch {
    shown = String(fn);
  }
  throw new KilnError(`${op}: expected an IR Function, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`);
}
