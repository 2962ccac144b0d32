// Argument checks for the public functions: each throws a KilnError that names the op and shows the
// offending value (`reshape: shape must be a list of integers, got "abc"`), instead of a TypeError
// from deep inside. `named` gives composite ops their own name in errors raised by their parts.
import { KilnError } from '../ir/error.js';
import { Tensor } from './tensor.js';

/** A short, readable rendering of any value for error messages. */
export function show(x: unknown): string {
  if (x instanceof Tensor) return x.describe();
  if (x === undefined) return 'undefined';
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (typeof x === 'function') return `function ${x.name || '(anonymous)'}`;
  if (typeof x === 'bigint' || typeof x === 'symbol') return String(x);
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  let s: string;
  try {
    s = JSON.stringify(x, (_k, v) => (v instanceof Tensor ? v.describe() : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(x);
  } catch {
    s = Object.prototype.toString.call(x);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Runs a composite op so that errors of the ops it is made of carry its name first. */
export function named<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KilnError && !e.message.startsWith(`${op}:`)) throw new KilnError(`${op}: ${e.message}`);
    throw e;
  }
}

export function fnArg(op: string, name: string | null, f: unknown): asserts f is (...args: any[]) => unknown {
  if (typeof f !== 'function') throw new KilnError(name ? `${op}: ${name} must be a function, got ${show(f)}` : `${op}: expected a function, got ${show(f)}`);
}

export function tensorArg(op: string, x: unknown, name?: string): Tensor {
  if (!(x instanceof Tensor)) throw new KilnError(name ? `${op}: ${name} must be a tensor, got ${show(x)}` : `${op}: expected a tensor, got ${show(x)}`);
  return x;
}

export function listArg<T = unknown>(op: string, name: string, xs: unknown): T[] {
  if (!Array.isArray(xs)) throw new KilnError(`${op}: ${name} must be a list, got ${show(xs)}`);
  return xs as T[];
}

/** A list of integers (at least `min` each, when given). */
export function intListArg(op: string, name: string, xs: unknown, min?: number): number[] {
  if (!Array.isArray(xs) || !xs.every((d) => Number.isInteger(d) && (min === undefined || d >= min))) {
    const what = min === 0 ? 'non-negative integers' : min === 1 ? 'positive integers' : 'integers';
    throw new KilnError(`${op}: ${name} must be a list of ${what}, got ${show(xs)}`);
  }
  return xs as number[];
}

export const shapeArg = (op: string, shape: unknown): number[] => intListArg(op, 'shape', shape, 0);

export function stringArg(op: string, name: string, x: unknown): string {
  if (typeof x !== 'string') throw new KilnError(`${op}: ${name} must be a string, got ${show(x)}`);
  return x;
}

export interface NumberRule {
  integer?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Strictly above zero. */
  positive?: boolean;
}

/** A finite number satisfying `rule`; the message says which rule. */
export function numberArg(op: string, name: string, x: unknown, rule: NumberRule = {}): number {
  const ok = typeof x === 'number' && Number.isFinite(x) && (!rule.integer || Number.isInteger(x)) &&
    (rule.min === undefined || x >= rule.min) && (rule.max === undefined || x <= rule.max) && (!rule.positive || x > 0);
  if (ok) return x as number;
  const kind = rule.integer ? 'integer' : 'number';
  let what: string;
  if (rule.positive) what = `a positive ${kind}`;
  else if (rule.min === 0 && rule.max === undefined) what = `a non-negative ${kind}`;
  else if (rule.min !== undefined && rule.max !== undefined) what = `${rule.integer ? 'an integer' : 'a number'} in [${rule.min}, ${rule.max}]`;
  else if (rule.min !== undefined) what = `${rule.integer ? 'an integer' : 'a number'} >= ${rule.min}`;
  else what = rule.integer ? 'an integer' : 'a finite number';
  throw new KilnError(`${op}: ${name} must be ${what}, got ${show(x)}`);
}

/** One of a few strings. */
export function oneOfArg<T extends string>(op: string, name: string, x: unknown, options: readonly T[]): T {
  if (!options.includes(x as T)) {
    const list = options.map((o) => `'${o}'`);
    const said = list.length === 2 ? `${list[0]} or ${list[1]}` : `one of ${list.join(', ')}`;
    throw new KilnError(`${op}: ${name} must be ${said}, got ${typeof x === 'string' ? `'${x}'` : show(x)}`);
  }
  return x as T;
}

/** An options object (or nothing). */
export function optionsArg<T extends object>(op: string, x: T | undefined): T | Record<string, never> {
  if (x === undefined || x === null) return {};
  if (typeof x !== 'object' || Array.isArray(x) || x instanceof Tensor) throw new KilnError(`${op}: optional arguments go in an options object, got ${show(x)}`);
  return x;
}
