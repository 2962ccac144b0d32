// Differential fuzzing, gradients: eager backward() (the tape) agrees with grad under jit (the IR
// autodiff pass and the whole pipeline) on cpu-ref and wasm, for random differentiable programs.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { makeProgram } from './program.js';
import { checkGradients } from './harness.js';
import { FUZZ_RUNS, FUZZ_SEED, fuzzTimeout, tapeArb } from './config.js';

describe('differential fuzzing: gradients', () => {
  it(`eager backward() equals jit(grad) on cpu-ref and wasm (${FUZZ_RUNS.gradients} runs, seed ${FUZZ_SEED})`, () => {
    fc.assert(
      fc.property(tapeArb, (ints) => checkGradients(makeProgram(ints, { differentiable: true }), { wasm: true })),
      { seed: FUZZ_SEED + 2, numRuns: FUZZ_RUNS.gradients },
    );
  }, fuzzTimeout(FUZZ_RUNS.gradients, 800));
});
