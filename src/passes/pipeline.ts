// The pass pipeline jit runs between tracing and compiling: one flat, named list of IR -> IR steps.
// For now it is the identity; the passes (verify, simplify, cse/dce, fuse) are added here by name.
import type { Function } from '../ir/function.js';

export interface PipelineOptions {
  /** Filled by the passes as they land (e.g. which passes to skip, dump points). */
  readonly [option: string]: unknown;
}

/** Optimizes a traced Function; pure: returns a new Function and never mutates `fn`. */
export function runPipeline(fn: Function, _opts: PipelineOptions = {}): Function {
  return fn;
}
