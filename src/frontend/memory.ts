// Memory without ceremony: memory() reports live device buffers; tidy(fn) disposes the tensors made
// inside fn (sync or async) except the ones it returns. Unreachable tensors are freed anyway by the
// devices' FinalizationRegistry; tidy and dispose() only make it deterministic.
import { KilnError } from '../ir/error.js';
import { memory } from '../codegen/device.js';
import type { MemoryInfo } from '../codegen/device.js';
import { Tensor } from './tensor.js';
import { currentTrace } from './trace.js';
import { show, tensorArg } from './args.js';

export { memory };
export type { MemoryInfo };

/** One tidy call: weak references to the tensors made inside it (tidy never extends a lifetime). */
interface Scope {
  readonly made: WeakRef<Tensor>[];
  readonly parent: Scope | null;
}

/**
 * Which scope is current. With AsyncLocalStorage (Node) the scope follows the async function across
 * awaits and concurrent tasks do not see it; elsewhere it is a plain stack, exact for synchronous
 * functions (an async tidy then also collects tensors other tasks make while it awaits).
 */
interface ScopeContext {
  current(): Scope | null;
  run<T>(scope: Scope, fn: () => T): T;
}

type AsyncLocalStorageLike = { getStore(): Scope | undefined; run<T>(store: Scope, fn: () => T): T };

function makeContext(): ScopeContext {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const hooks = proc?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: new () => AsyncLocalStorageLike } | undefined;
  if (hooks?.AsyncLocalStorage) {
    const als = new hooks.AsyncLocalStorage();
    return { current: () => als.getStore() ?? null, run: (scope, fn) => als.run(scope, fn) };
  }
  const stack: Scope[] = [];
  return {
    current: () => stack[stack.length - 1] ?? null,
    run(scope, fn) {
      stack.push(scope);
      const pop = () => {
        const i = stack.lastIndexOf(scope);
        if (i >= 0) stack.splice(i, 1);
      };
      let r: unknown;
      try {
        r = fn();
      } catch (e) {
        pop();
        throw e;
      }
      if (isPromiseLike(r)) return r.then((v) => (pop(), v), (e) => (pop(), Promise.reject(e))) as never;
      pop();
      return r as never;
    },
  };
}

let context: ScopeContext | null = null;
/** Tensors that outlive any tidy scope they were made in (keep()). */
const kept = new WeakSet<Tensor>();

/** Whether keep() exempted `t` (state that lives on: optimizer slots, running statistics). */
export function isKept(t: Tensor): boolean {
  return kept.has(t);
}

/**
 * Exempts `t` from the tidy scope it was made in (TF.js's keep): for state that lives on, such as
 * optimizer slots and `.grad`. Returns `t`.
 */
export function keep<T extends Tensor | null | undefined>(t: T): T {
  if (t !== null && t !== undefined) kept.add(tensorArg('keep', t));
  return t;
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/** Tensors anywhere in a result (arrays, plain objects, Maps/Sets; each object once). */
function tensorsIn(x: unknown, out = new Set<Tensor>(), seen = new Set<unknown>()): Set<Tensor> {
  if (x instanceof Tensor) {
    out.add(x);
    return out;
  }
  if (x === null || typeof x !== 'object' || seen.has(x)) return out;
  seen.add(x);
  if (Array.isArray(x) || x instanceof Set) for (const v of x) tensorsIn(v, out, seen);
  else if (x instanceof Map) for (const v of x.values()) tensorsIn(v, out, seen);
  else for (const v of Object.values(x)) tensorsIn(v, out, seen);
  return out;
}

function close(scope: Scope, result: unknown): void {
  const keep = tensorsIn(result);
  for (const ref of scope.made) {
    const t = ref.deref();
    if (!t || kept.has(t)) continue;
    // Kept tensors belong to the enclosing scope now (its end disposes them unless returned again).
    if (keep.has(t)) scope.parent?.made.push(ref);
    else t.dispose();
  }
  scope.made.length = 0;
}

/**
 * Runs `fn` and disposes every tensor created during it except those in its result (tensors in
 * arrays, objects, Maps and Sets count as returned). `fn` may be async: tensors are disposed when its
 * promise settles, and (under Node) only those made by `fn`'s own async chain. Nested tidy calls
 * hand their returned tensors to the enclosing scope. Tensors made inside and stored elsewhere (not
 * returned) are disposed too: return them, or create them outside.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const fn = typeof a === 'function' ? a : b;
  if (typeof fn !== 'function') throw new KilnError(`tidy: expected a function (or a name and a function), got ${show(fn)}`);
  context ??= makeContext();
  const ctx = context;
  // Tensors made while tracing are constants the compiled trace keeps reading: never the scope's.
  Tensor._onCreate ??= (t) => {
    const scope = ctx.current();
    if (scope && !currentTrace()) scope.made.push(new WeakRef(t));
  };
  const scope: Scope = { made: [], parent: ctx.current() };
  let result: T;
  try {
    result = ctx.run(scope, fn);
  } catch (e) {
    close(scope, undefined);
    throw e;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (v) => (close(scope, v), v),
      (e) => {
        close(scope, undefined);
        throw e;
      },
    ) as T;
  }
  close(scope, result);
  return result;
}

/** Disposes every tensor in `x` (arrays, objects, Maps, Sets); a convenience for results you are done with. */
export function dispose(x: unknown): void {
  if (x !== null && x !== undefined && typeof x !== 'object') throw new KilnError(`dispose: expected tensors (or arrays and objects of them), got ${show(x)}`);
  for (const t of tensorsIn(x)) t.dispose();
}
