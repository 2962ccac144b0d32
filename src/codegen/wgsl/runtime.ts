// The GPU side of the webgpu device: a buffer pool, a pipeline cache keyed by shader hash, command
// batching (dispatches go into one open command encoder until a flush: one queue.submit per jitted
// call, eager ops batched until something reads), async readback, and the ordering of deferred work.
//
// Ordering: everything that touches GPU buffers runs as a job through `schedule`. Jobs normally run
// at once, synchronously. A job that must wait for the GPU (a `while`/`cond` predicate readback)
// returns a promise; later jobs then queue behind it, so buffers and results stay in program order
// while the Device interface stays synchronous. Errors of a deferred job surface at the next read.
//
// Timing (profiles): where the device has 'timestamp-query', beginTiming() makes each later dispatch
// its own compute pass whose GPU start and end are written to a query set, tagged with `timingTag`;
// endTiming() resolves them. Without the feature, timedDispatches is false and profiles fall back to
// wall-clock time until onSubmittedWorkDone (see src/frontend/viz/profile.ts).
import { KilnError } from '../../ir/error.js';
import type { GpuLimits, Phase } from './emit.js';

const USAGE_STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const USAGE_READBACK = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;
const USAGE_QUERY_RESOLVE = 0x200 | 0x04; // QUERY_RESOLVE | COPY_SRC
/** Timestamp queries in a timing session's query set: two per timed dispatch (later ones go untimed). */
const TIMING_QUERIES = 4096;
/** Eager dispatches recorded before the runtime submits on its own (keeps the GPU busy). */
const MAX_PENDING = 256;
/** Bytes of released buffers kept for reuse; beyond it released buffers are destroyed. */
const POOL_BYTES = 512 * 1024 * 1024;

/** cyrb53: a fast 53-bit string hash, for pipeline cache keys. */
export function hashText(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** Pool size classes: powers of two up to 1 MiB, then whole MiB (min 16 bytes, WebGPU's habit). */
function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export interface RuntimeStats {
  submits: number;
  dispatches: number;
  pipelines: number;
  buffersCreated: number;
  readbacks: number;
}

/** One timed dispatch: the tag that was current when it was recorded, and its GPU time. */
export interface DispatchTime {
  readonly tag: number;
  readonly ns: number;
}

export class GpuRuntime {
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private readonly pipelines = new Map<string, { code: string; pipeline: GPUComputePipeline }>();
  private readonly bindGroups = new WeakMap<GPUComputePipeline, Map<string, GPUBindGroup>>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  /** Compiled calls being recorded (see dispatch). */
  recording = 0;
  private tail: Promise<void> | null = null;
  private failure: unknown = null;
  /** Set when the GPUDevice is lost; initWebGPU() then acquires a new one. */
  lost = false;
  readonly stats: RuntimeStats = { submits: 0, dispatches: 0, pipelines: 0, buffersCreated: 0, readbacks: 0 };
  /** Whether the device was created with 'timestamp-query' (GPU-side dispatch times for profiles). */
  readonly timestampQuery: boolean;
  private timing: { querySet: GPUQuerySet; tags: number[]; untimed: number } | null = null;
  private timingOpen = false;
  /** The tag of dispatches recorded from now on while timing; set it from a job so it follows program order. */
  timingTag = 0;

  constructor(
    readonly device: GPUDevice,
    readonly limits: GpuLimits & { readonly maxBindingSize: number },
  ) {
    this.timestampQuery = device.features?.has?.('timestamp-query') ?? false;
    // Validation errors (a shader that does not compile, a bad binding) arrive asynchronously: keep
    // the first one and throw it at the next read, instead of silently leaving outputs unwritten.
    device.addEventListener?.('uncapturederror', (e) => {
      const error = (e as GPUUncapturedErrorEvent).error;
      this.failure ??= new KilnError(`webgpu: the GPU reported an error: ${error?.message ?? String(error)}`);
    });
    void device.lost?.then((info) => {
      this.lost = true;
      this.failure ??= new KilnError(`webgpu: the GPU device was lost (${info.reason}: ${info.message}); call initWebGPU() again`);
    });
  }

  // ---- buffers -----------------------------------------------------------------------------------

  checkSize(what: string, bytes: number): void {
    if (bytes > this.limits.maxBindingSize) {
      throw new KilnError(`webgpu: ${what} needs ${bytes} bytes, more than the device's maxStorageBufferBindingSize (${this.limits.maxBindingSize})`);
    }
  }

  /** A storage buffer of at least `bytes`, reused from the pool when one is free. */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const free = this.pool.get(size);
    if (free?.length) {
      this.pooledBytes -= size;
      return free.pop()!;
    }
    this.stats.buffersCreated++;
    return this.device.createBuffer({ size, usage: USAGE_STORAGE });
  }

  /** A new buffer holding `bytes` (uploads write it while mapped: no queue traffic, no ordering). */
  createWith(bytes: ArrayBufferView): GPUBuffer {
    const size = sizeClass(bytes.byteLength);
    this.stats.buffersCreated++;
    const buf = this.device.createBuffer({ size, usage: USAGE_STORAGE, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    buf.unmap();
    return buf;
  }

  /** Gives a buffer back for reuse; only call from a job (see schedule), after its last use is encoded. */
  release(buf: GPUBuffer): void {
    const size = buf.size;
    if (this.pooledBytes + size > POOL_BYTES) {
      // A destroyed buffer is never acquired again, so bind groups naming it are never looked up.
      buf.destroy();
      return;
    }
    let list = this.pool.get(size);
    if (!list) this.pool.set(size, (list = []));
    list.push(buf);
    this.pooledBytes += size;
  }

  // ---- pipelines ---------------------------------------------------------------------------------

  pipeline(code: string): GPUComputePipeline {
    const key = hashText(code);
    const hit = this.pipelines.get(key);
    if (hit && hit.code === code) return hit.pipeline;
    const module = this.device.createShaderModule({ code });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.stats.pipelines++;
    this.pipelines.set(key, { code, pipeline });
    return pipeline;
  }

  // ---- encoding ----------------------------------------------------------------------------------

  private encoderNow(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Records one dispatch of `phase` with `buffers[i]` bound at binding i. */
  dispatch(phase: Phase, pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): void {
    if (phase.workgroups === 0) return;
    const group = this.bindGroup(pipeline, buffers);
    const t = this.timing;
    const timed = t !== null && t.tags.length * 2 < TIMING_QUERIES;
    if (t && !timed) t.untimed++;
    if (timed) {
      // Its own pass: timestamps are written at the beginning and end of a pass.
      this.endPass();
      const at = t.tags.length * 2;
      t.tags.push(this.timingTag);
      this.pass = this.encoderNow().beginComputePass({ timestampWrites: { querySet: t.querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
    }
    const pass = (this.pass ??= this.encoderNow().beginComputePass());
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    const perDim = this.limits.maxWorkgroupsPerDim;
    const x = Math.min(phase.workgroups, perDim);
    const y = Math.ceil(phase.workgroups / x);
    if (y > perDim) throw new KilnError(`webgpu: a dispatch of ${phase.workgroups} workgroups exceeds the device's grid (${perDim}^2)`);
    pass.dispatchWorkgroups(x, y);
    if (timed) this.endPass();
    this.stats.dispatches++;
    // Eager work is submitted in batches; a compiled call (holding `recording`) stays one command buffer.
    if (++this.pending >= MAX_PENDING && this.recording === 0) this.flush();
  }

  /**
   * Bind groups are cached per pipeline and buffer set: with pooled buffers a jitted step binds the
   * same buffers call after call. A few per pipeline are kept (cleared past that).
   */
  private bindGroup(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const key = buffers.map((b) => this.bufferId(b)).join(',');
    let groups = this.bindGroups.get(pipeline);
    if (!groups) this.bindGroups.set(pipeline, (groups = new Map()));
    let group = groups.get(key);
    if (!group) {
      if (groups.size >= 16) groups.clear();
      const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
      group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      groups.set(key, group);
    }
    return group;
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) this.ids.set(b, (id = this.nextId++));
    return id;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.encoderNow().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded so far as one command buffer (nothing when nothing is recorded). */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const cmd = this.encoder.finish();
    this.encoder = null;
    this.pending = 0;
    this.device.queue.submit([cmd]);
    this.stats.submits++;
  }

  /** Copies `bytes` of `buf` to the host; call from a job (it flushes what was recorded before). */
  async readNow(buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: USAGE_READBACK });
    this.copy(buf, 0, staging, 0, size);
    this.flush();
    this.stats.readbacks++;
    await staging.mapAsync(MAP_READ);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Resolves once the GPU has finished everything submitted so far (deferred jobs included). */
  async finish(): Promise<void> {
    await this.idle();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  // ---- timing ------------------------------------------------------------------------------------

  /** Starts timing dispatches (see the file comment); needs timestampQuery. */
  beginTiming(): void {
    if (!this.timestampQuery) throw new KilnError("webgpu: timing dispatches needs the device feature 'timestamp-query', which this device was not created with");
    if (this.timingOpen) throw new KilnError('webgpu: a timing session is already running');
    this.timingOpen = true;
    this.schedule(() => {
      this.endPass();
      this.timing = { querySet: this.device.createQuerySet({ type: 'timestamp', count: TIMING_QUERIES }), tags: [], untimed: 0 };
    });
  }

  /** Ends the timing session once the work before it has run; each timed dispatch's tag and GPU time. */
  async endTiming(): Promise<{ dispatches: DispatchTime[]; untimed: number }> {
    if (!this.timingOpen) throw new KilnError('webgpu: endTiming() without beginTiming()');
    this.timingOpen = false;
    await this.idle();
    const t = this.timing!;
    this.timing = null;
    const n = t.tags.length * 2;
    if (n === 0) {
      t.querySet.destroy();
      return { dispatches: [], untimed: t.untimed };
    }
    const resolved = this.device.createBuffer({ size: n * 8, usage: USAGE_QUERY_RESOLVE });
    this.endPass();
    this.encoderNow().resolveQuerySet(t.querySet, 0, n, resolved, 0);
    const stamps = new BigUint64Array(await this.readNow(resolved, n * 8));
    resolved.destroy();
    t.querySet.destroy();
    // Timestamps may be quantized (or reordered by the implementation): a negative span counts as 0.
    const dispatches = t.tags.map((tag, i) => ({ tag, ns: Math.max(0, Number(stamps[2 * i + 1] - stamps[2 * i])) }));
    return { dispatches, untimed: t.untimed };
  }

  // ---- ordering ----------------------------------------------------------------------------------

  /** Runs `job` now, or after the deferred jobs before it. Sync errors of a job run now propagate. */
  schedule(job: () => void | Promise<void>): void {
    if (this.tail) {
      this.chain(this.tail.then(job));
      return;
    }
    const r = job();
    if (r instanceof Promise) this.chain(r);
  }

  private chain(p: Promise<void>): void {
    const t: Promise<void> = p.catch((e) => {
      this.failure ??= e;
    }).finally(() => {
      if (this.tail === t) this.tail = null;
    });
    this.tail = t;
  }

  /** Waits until no deferred job is left; rethrows the first error a deferred job raised. */
  async idle(): Promise<void> {
    while (this.tail) await this.tail;
    if (this.failure) {
      const e = this.failure;
      this.failure = null;
      throw e;
    }
  }
}
