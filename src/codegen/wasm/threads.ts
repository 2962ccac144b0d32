// The worker pool: Node worker_threads sharing the heap's (shared) WebAssembly.Memory. Every kernel
// takes a (start, end) range of its parallel loop, so a launch splits the range into contiguous
// chunks: the calling thread runs the first, workers the others. Hand-off is through Atomics on a
// small control block per worker (no message per kernel); workers instantiate each module once,
// reading its bytes from the shared memory. Without worker_threads or SharedArrayBuffer (a browser
// that is not cross-origin isolated) the pool is simply not used.
import { KilnError } from '../../ir/error.js';
import type { Heap } from './heap.js';

type WorkerCtor = new (code: string, opts: { eval: true; workerData: unknown }) => { unref(): void; terminate(): Promise<number> };

// Loaded once; absent in browsers (a Web Worker pool would plug in here).
const workerThreads: { Worker: WorkerCtor } | null = await import('node:worker_threads')
  .then((m) => m as unknown as { Worker: WorkerCtor })
  .catch(() => null);

/** Whether this environment can run kernels on several threads. */
export const threadsAvailable = workerThreads !== null && typeof SharedArrayBuffer !== 'undefined';

const os: { availableParallelism?: () => number; cpus(): unknown[] } | null = await import('node:os').catch(() => null);

/** Default thread count: the machine's cores (KILN_THREADS overrides), at most 16. */
export function defaultThreads(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KILN_THREADS;
  if (env && Number(env) >= 1) return Math.min(16, Math.floor(Number(env)));
  const cores = os ? (os.availableParallelism?.() ?? os.cpus().length) : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(16, cores ?? 1));
}

// Control block (Int32Array) per worker.
const JOB = 0; // sequence number of the posted job (main writes; < 0: exit)
const READY = 1;
const DONE = 2; // sequence number of the last finished job (worker writes)
const ERROR = 3;
const CMD = 4;
const MODULE = 5;
const A = 6; // kernel index (run) or byte address (load)
const B = 7; // argument count (run) or byte length (load)
const MEMSIZE = 8; // the heap's byte length when the job was posted (workers refresh their view)
const ARGS = 9;
const MAX_ARGS = 120;
const DEAD = ARGS + MAX_ARGS; // set by a worker whose thread is exiting (it will not finish its job)
const CMD_LOAD = 1;
const CMD_RUN = 2;
const CMD_DROP = 3;
const CMD_EXIT = 4; // tests: the worker's thread dies mid-job, as a crashed worker would

const WORKER_CODE = `
const { workerData } = require('node:worker_threads');
const { control, memory, message } = workerData;
const ctl = new Int32Array(control);
const text = new Uint8Array(message);
const modules = new Map();
// A thread that exits (crash, process.exit) says so, so the main thread stops waiting for it at once.
process.on('exit', () => {
  Atomics.store(ctl, ${DEAD}, 1);
  Atomics.notify(ctl, ${DONE});
});
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${JOB}, seen);
  const job = Atomics.load(ctl, ${JOB});
  if (job === seen) continue;
  seen = job;
  if (job < 0) break;
  let err = 0;
  try {
    // Memory grown by another thread: grow(0) refreshes this thread's view of it.
    if (memory.buffer.byteLength < ctl[${MEMSIZE}] * 65536) memory.grow(0);
    const cmd = ctl[${CMD}];
    if (cmd === ${CMD_LOAD}) {
      const bytes = new Uint8Array(memory.buffer, ctl[${A}] >>> 0, ctl[${B}]).slice();
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      modules.set(ctl[${MODULE}], inst.exports);
    } else if (cmd === ${CMD_RUN}) {
      const n = ctl[${B}];
      const args = new Array(n);
      for (let i = 0; i < n; i++) args[i] = ctl[${ARGS} + i];
      modules.get(ctl[${MODULE}])['k' + ctl[${A}]](...args);
    } else if (cmd === ${CMD_DROP}) {
      modules.delete(ctl[${MODULE}]);
    } else if (cmd === ${CMD_EXIT}) {
      process.exit(70);
    }
  } catch (e) {
    err = e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message) ? 2 : 1;
    const bytes = new TextEncoder().encode(String(e && e.message || e)).slice(0, text.length - 1);
    text.fill(0);
    text.set(bytes);
  }
  ctl[${ERROR}] = err;
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}`;

interface PoolWorker {
  readonly worker: { unref(): void; terminate(): Promise<number> };
  readonly ctl: Int32Array;
  /** The last error message of the worker (NUL-terminated UTF-8). */
  readonly message: Uint8Array;
  seq: number;
  scratch: { ptr: number; block: number; bytes: number };
}

export class ThreadPool {
  private workers: PoolWorker[] = [];
  private readonly modules = new Map<number, Uint8Array>();
  private nextModule = 1;
  private wanted: number;
  /** How long a launch waits for a worker before declaring it lost (tests shorten it). */
  timeoutMs = 60_000;

  constructor(private readonly heap: Heap, threads: number) {
    this.wanted = Math.max(1, Math.floor(threads));
  }

  /** Threads used per launch, the calling one included. */
  get threads(): number {
    return this.wanted;
  }

  set threads(n: number) {
    const want = Math.max(1, Math.min(64, Math.floor(n)));
    if (want < this.workers.length + 1) {
      for (const w of this.workers.splice(want - 1)) this.stop(w);
    }
    this.wanted = want;
  }

  /** Registers module bytes; workers instantiate them when started (or now, if running). */
  register(bytes: Uint8Array): number {
    const id = this.nextModule++;
    this.modules.set(id, bytes);
    if (this.workers.length) this.loadInto(this.workers, id, bytes);
    return id;
  }

  /** Forgets a module (its executable was garbage collected). */
  drop(id: number): void {
    if (!this.modules.delete(id)) return;
    for (const w of this.workers) this.post(w, CMD_DROP, id, 0, 0, []);
    this.wait(this.workers, 'drop');
  }

  /**
   * Runs kernel `index` of module `id` over [0, extent) split across the threads. `args` ends with
   * (scratch, start, end); each worker gets its own scratch area of `scratchBytes`.
   */
  run(id: number, index: number, args: number[], extent: number, scratchBytes: number, main: (args: number[]) => void): void {
    const n = Math.min(this.wanted, extent);
    if (n <= 1 || args.length > MAX_ARGS) return main(args);
    this.ensureWorkers(n - 1);
    const helpers = this.workers.slice(0, n - 1);
    const chunk = Math.ceil(extent / n);
    helpers.forEach((w, i) => {
      const start = (i + 1) * chunk;
      const end = Math.min(extent, start + chunk);
      const a = args.slice();
      a[a.length - 3] = scratchBytes ? this.scratchOf(w, scratchBytes) : 0;
      a[a.length - 2] = start;
      a[a.length - 1] = Math.max(start, end);
      this.post(w, CMD_RUN, id, index, a.length, a);
    });
    const mine = args.slice();
    mine[mine.length - 2] = 0;
    mine[mine.length - 1] = Math.min(chunk, extent);
    let failure: unknown = null;
    try {
      main(mine);
    } catch (e) {
      failure = e;
    }
    const err = this.wait(helpers, 'run');
    if (failure) throw failure;
    if (err === 2) throw new WebAssembly.RuntimeError('unreachable');
    if (err) throw new KilnError(`wasm: a worker thread failed while running a kernel: ${this.lastMessage(helpers)}`);
  }

  private scratchOf(w: PoolWorker, bytes: number): number {
    if (bytes > w.scratch.bytes) {
      if (w.scratch.block) this.heap.release(w.scratch.ptr, w.scratch.block);
      const [ptr, block] = this.heap.alloc(bytes);
      w.scratch = { ptr, block, bytes: block };
    }
    return w.scratch.ptr;
  }

  private ensureWorkers(count: number): void {
    if (!threadsAvailable || !workerThreads) throw new KilnError('wasm: threads are not available here (no worker_threads or SharedArrayBuffer)');
    const fresh: PoolWorker[] = [];
    while (this.workers.length < count) {
      const ctl = new Int32Array(new SharedArrayBuffer(4 * (DEAD + 1)));
      const message = new Uint8Array(new SharedArrayBuffer(512));
      const worker = new workerThreads.Worker(WORKER_CODE, { eval: true, workerData: { control: ctl.buffer, memory: this.heap.memory, message: message.buffer } });
      worker.unref();
      const w: PoolWorker = { worker, ctl, message, seq: 0, scratch: { ptr: 0, block: 0, bytes: 0 } };
      this.workers.push(w);
      fresh.push(w);
    }
    for (const w of fresh) {
      // Workers start on their own threads, so blocking here cannot deadlock.
      if (Atomics.wait(w.ctl, READY, 0, 30_000) === 'timed-out' && Atomics.load(w.ctl, READY) === 0) {
        throw new KilnError('wasm: a worker thread did not start within 30 s');
      }
    }
    for (const [id, bytes] of this.modules) this.loadInto(fresh, id, bytes);
  }

  /** Copies module bytes into the shared heap once and has each worker instantiate them. */
  private loadInto(workers: PoolWorker[], id: number, bytes: Uint8Array): void {
    if (!workers.length) return;
    const [ptr, block] = this.heap.alloc(bytes.length);
    try {
      this.heap.u8.set(bytes, ptr);
      for (const w of workers) this.post(w, CMD_LOAD, id, ptr, bytes.length, []);
      if (this.wait(workers, 'load')) throw new KilnError(`wasm: a worker thread could not instantiate a module: ${this.lastMessage(workers)}`);
    } finally {
      this.heap.release(ptr, block);
    }
  }

  private post(w: PoolWorker, cmd: number, module: number, a: number, b: number, args: number[]): void {
    const c = w.ctl;
    c[CMD] = cmd;
    c[MODULE] = module;
    c[A] = a;
    c[B] = b;
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i];
    c[MEMSIZE] = this.heap.memory.buffer.byteLength / 65536;
    w.seq++;
    Atomics.store(c, JOB, w.seq);
    Atomics.notify(c, JOB);
  }

  /**
   * Waits for every worker's current job; returns the first error code (0 when all went well). A
   * worker whose thread died (it flags DEAD on exit) or that does not answer within timeoutMs is an
   * error, never an endless wait; the pool then replaces all its workers at the next launch.
   */
  private wait(workers: PoolWorker[], what: string): number {
    let err = 0;
    const deadline = Date.now() + this.timeoutMs;
    let lost: string | null = null;
    for (const w of workers) {
      for (;;) {
        const done = Atomics.load(w.ctl, DONE);
        if (done === w.seq) break;
        if (Atomics.load(w.ctl, DEAD)) {
          lost = `a worker thread exited while running a job (${what})`;
          break;
        }
        const left = deadline - Date.now();
        if (left <= 0 || (Atomics.wait(w.ctl, DONE, done, Math.min(left, 1000)) === 'timed-out' && Date.now() >= deadline && Atomics.load(w.ctl, DONE) !== w.seq)) {
          lost = `a worker thread did not finish (${what}) within ${this.timeoutMs / 1000} s`;
          break;
        }
      }
      if (lost) break;
      err ||= w.ctl[ERROR];
    }
    if (lost) {
      // The lost job's results are incomplete and the worker cannot be trusted: start over.
      this.restart();
      throw new KilnError(`wasm: ${lost}; the kernel's result is lost (the pool starts fresh workers at the next launch)`);
    }
    return err;
  }

  /** Stops every worker (a lost one is terminated); the next launch starts and loads fresh ones. */
  private restart(): void {
    for (const w of this.workers.splice(0)) {
      this.stop(w);
      void w.worker.terminate().catch(() => undefined);
    }
  }

  /**
   * Tests: worker `i` (started if needed) dies as a crashed thread would: 'exit' ends its thread
   * through process.exit (it flags DEAD on the way out); 'terminate' kills it from outside, silently.
   */
  _crashWorkerForTest(i = 0, how: 'exit' | 'terminate' = 'exit'): void {
    this.ensureWorkers(i + 1);
    const w = this.workers[i];
    if (how === 'terminate') {
      void w.worker.terminate();
      return;
    }
    w.seq++;
    w.ctl[CMD] = CMD_EXIT;
    Atomics.store(w.ctl, JOB, w.seq);
    Atomics.notify(w.ctl, JOB);
    Atomics.wait(w.ctl, DEAD, 0, 10_000);
  }

  private lastMessage(workers: PoolWorker[]): string {
    for (const w of workers) {
      if (!w.ctl[ERROR]) continue;
      const end = w.message.indexOf(0);
      return new TextDecoder().decode(w.message.slice(0, end < 0 ? undefined : end));
    }
    return 'unknown error';
  }

  private stop(w: PoolWorker): void {
    Atomics.store(w.ctl, JOB, -1);
    Atomics.notify(w.ctl, JOB);
    if (w.scratch.block) this.heap.release(w.scratch.ptr, w.scratch.block);
  }
}
