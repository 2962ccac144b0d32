// Which module classes are the library's own (exact classes, not user subclasses): their forward makes
// no tensor it keeps unless keep()-ed, so Module.call may free their intermediates (nn/module.ts).
const BUILTIN = new WeakSet<object>();

/** Registers library classes (nn/index.ts does, for every layer it exports). */
export function markBuiltin(...classes: unknown[]): void {
  for (const c of classes) if (typeof c === 'function') BUILTIN.add(c);
}

export function isBuiltin(ctor: unknown): boolean {
  return typeof ctor === 'function' && BUILTIN.has(ctor);
}
