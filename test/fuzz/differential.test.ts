// Differential fuzzing, forward: random programs of public ops agree on the reference interpreter,
// eagerly and jitted on cpu-ref, and eagerly and jitted on wasm. Fixed seed and budget in CI;
// `npm run fuzz` (KILN_FUZZ_RUNS, KILN_FUZZ_SEED) runs longer. A failure shrinks and prints the IR.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { makeProgram } from './program.js';
import { checkForward } from './harness.js';
import { FUZZ_RUNS, FUZZ_SEED, fuzzTimeout, tapeArb } from './config.js';

describe('differential fuzzing: forward', () => {
  it(`random programs agree on the interpreter, eager and jit, cpu-ref and wasm (${FUZZ_RUNS.forward} runs, seed ${FUZZ_SEED})`, () => {
    fc.assert(
      fc.property(tapeArb, (ints) => checkForward(makeProgram(ints), { wasm: true })),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS.forward },
    );
  }, fuzzTimeout(FUZZ_RUNS.forward, 400));

  it(`larger programs on cpu-ref alone (${FUZZ_RUNS.large} runs)`, () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { maxLength: 160, size: 'max' }), (ints) => checkForward(makeProgram(ints, { maxOps: 16 }))),
      { seed: FUZZ_SEED + 1, numRuns: FUZZ_RUNS.large },
    );
  }, fuzzTimeout(FUZZ_RUNS.large, 150));
});
