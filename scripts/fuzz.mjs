// `npm run fuzz`: the differential and untrusted-input fuzz suites with a larger budget and a fresh
// seed (printed, so a failure can be replayed with KILN_FUZZ_SEED). KILN_FUZZ_RUNS sets the budget.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
env.KILN_FUZZ_RUNS ??= '1000';
env.KILN_FUZZ_SEED ??= String(Date.now() % 2 ** 31);
console.log(`kiln fuzz: KILN_FUZZ_RUNS=${env.KILN_FUZZ_RUNS} KILN_FUZZ_SEED=${env.KILN_FUZZ_SEED}`);
const files = process.argv.slice(2);
const args = ['vitest', 'run', ...(files.length ? files : ['test/fuzz/differential.test.ts', 'test/fuzz/gradients.test.ts', 'test/export/fuzz.test.ts', 'test/reliability/untrusted_bytes.test.ts'])];
const r = spawnSync('npx', args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
