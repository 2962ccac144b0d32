// Forcing a full garbage collection from a test, and letting FinalizationRegistry callbacks run (they
// are queued as tasks, so only a macrotask turn lets them in). Uses global.gc when node runs with
// --expose-gc (vitest.config.ts passes it to the forks), else enables the flag at run time.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as () => void;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Two full collections with task turns between them (finalizers may free what others held). */
export async function forceGC(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc!();
    await turn();
    await turn();
  }
}
