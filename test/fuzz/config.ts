// Budgets of the fuzz suites: small and fixed in CI; `npm run fuzz` (scripts/fuzz.mjs) runs more.
// KILN_FUZZ_RUNS: programs per property; KILN_FUZZ_SEED: the fast-check seed.
import fc from 'fast-check';

const env = process.env.KILN_FUZZ_RUNS;
const runs = env === undefined ? null : Math.max(1, Math.round(Number(env)));
export const FUZZ_SEED = Number(process.env.KILN_FUZZ_SEED ?? 20250611);
/** Programs per property: about 40 s of the CI budget together (ten times that for npm run fuzz's default). */
export const FUZZ_RUNS = {
  forward: runs ?? 150,
  large: runs ?? 150,
  gradients: runs ?? 100,
  /** Byte mutations are cheap: several per program. */
  untrusted: 4 * (runs ?? 100),
};

/** The integers a program is built from (fast-check shrinks them: shorter and smaller is simpler). */
export const tapeArb = fc.array(fc.nat({ max: 1000 }), { maxLength: 80, size: 'max' });

/** A generous per-test timeout for `runs` programs of about `msEach` (shrinking a failure takes longer). */
export const fuzzTimeout = (runs: number, msEach: number) => Math.max(60_000, runs * msEach * 3);
