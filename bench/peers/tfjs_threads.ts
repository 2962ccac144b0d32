// Lets tfjs-backend-wasm run its threaded (XNNPACK + pthreads) build in Node. tfjs turns threads off
// when IS_NODE (tfjs#3830): its Emscripten glue hands worker_threads blob: URLs for the pthread worker
// script and for the main script, and Node's Worker can read neither. The shim writes both scripts to
// a temporary folder, points the worker at the main script's file, and answers createObjectURL for the
// worker blob with that file's path while the backend initializes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Call before `tf.setBackend('wasm')`; returns a function that undoes the createObjectURL patch. */
export function installTfjsWasmThreadShim(): () => void {
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tfjs-wasm-'));
  const mainPath = join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const workerPath = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  writeFileSync(mainPath, readFileSync(glue, 'utf8'));
  // The worker would import the main script from a Blob it was sent; import it from the file instead.
  const branch = 'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}';
  if (!wasmWorkerContents.includes(branch)) throw new Error('tfjs-backend-wasm worker script changed; the thread shim needs an update');
  // As tfjs does for its Blob: newlines inside the script's string literals must stay escaped.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  writeFileSync(workerPath, source.replace(branch, `if(true){importScripts(${JSON.stringify(mainPath)})}`));
  const original = URL.createObjectURL;
  URL.createObjectURL = ((blob: Blob) => (blob.type === 'application/javascript' ? workerPath : original(blob))) as typeof URL.createObjectURL;
  return () => {
    URL.createObjectURL = original;
  };
}
