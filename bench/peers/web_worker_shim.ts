// A minimal Web Worker over Node's worker_threads, enough for jax-js's wasm worker pool: it creates
// `new Worker(blobUrl, {type: 'module'})` from a Blob of plain script, talks through onmessage and
// postMessage, and shares one WebAssembly.Memory. Node 20 has no global Worker, so without this shim
// jax-js runs its wasm kernels on one thread.
import { Worker as NodeWorker } from 'node:worker_threads';
import { resolveObjectURL } from 'node:buffer';

// The worker side: learn the script from the first message, give it the globals a Web Worker has.
const BOOTSTRAP = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.once('message', (source) => {
  (0, eval)(source);
  parentPort.on('message', (data) => globalThis.onmessage && globalThis.onmessage({ data }));
});
`;

class ShimWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string }) => void) | null = null;
  private readonly worker: NodeWorker;
  private pending: unknown[] | null = [];

  constructor(url: string | URL) {
    this.worker = new NodeWorker(BOOTSTRAP, { eval: true });
    this.worker.unref(); // an idle pool must not keep the process alive
    this.worker.on('message', (data) => this.onmessage?.({ data }));
    this.worker.on('error', (e) => this.onerror?.({ message: String(e?.message ?? e) }));
    const blob = resolveObjectURL(String(url));
    if (!blob) throw new Error(`web worker shim: ${String(url)} is not a blob: URL of this process`);
    void blob.text().then((source) => {
      this.worker.postMessage(source);
      for (const m of this.pending!) this.worker.postMessage(m);
      this.pending = null;
    });
  }

  postMessage(data: unknown): void {
    if (this.pending) this.pending.push(data);
    else this.worker.postMessage(data);
  }

  terminate(): void {
    void this.worker.terminate();
  }
}

/**
 * Makes `globalThis.Worker` the shim until the returned function restores the previous value.
 * Emscripten's Node glue (tfjs-wasm) sets a global Worker to worker_threads' own class, which takes
 * file paths, not blob URLs: jax-js must see the shim while it creates its pool.
 */
export function installWebWorkerShim(): () => void {
  const g = globalThis as { Worker?: unknown };
  const had = Object.hasOwn(g, 'Worker');
  const prev = g.Worker;
  g.Worker = ShimWorker;
  return () => {
    if (had) g.Worker = prev;
    else delete g.Worker;
  };
}
