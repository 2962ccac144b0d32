// KilnError: the one error class of the whole library (ir up to the runtime), so users catch one thing.
export class KilnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KilnError';
  }
}

/** Throws a KilnError prefixed with the op name: `fail('matmul', 'inner dimensions 4 and 5 differ')`. */
export function fail(op: string, message: string): never {
  throw new KilnError(`${op}: ${message}`);
}
