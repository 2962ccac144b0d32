// The wasm device's memory: one WebAssembly.Memory holding every tensor buffer, with a size-class
// pool allocator (16-byte aligned blocks, free lists per class, bump allocation and growth), and
// the DeviceBuffer type whose storage is a block of it. Buffers are freed by dispose() or, when a
// tensor is dropped without dispose, by a FinalizationRegistry.
import type { DType } from '../../ir/dtype.js';
import type { Shape } from '../../ir/shape.js';
import { KilnError } from '../../ir/error.js';
import type { DeviceBuffer } from '../device.js';

const PAGE = 65536;
const ALIGN = 16;
/** Address handed out for empty buffers; never freed, never read. */
const EMPTY = 16;
/** Bytes below this stay unused so that no buffer sits at address 0. */
const RESERVED = 64;

export interface WasmBuffer extends DeviceBuffer {
  readonly dtype: DType;
  readonly shape: Shape;
  /** Byte address in the heap's memory. */
  ptr: number;
  /** Bytes of the block (its size class), 0 for views and empty buffers. */
  block: number;
  /** False for views into another buffer (scan slices) and for freed buffers. */
  owned: boolean;
}

/** Size class of an allocation: 16-byte steps up to 256, then 4 classes per power of two. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export interface HeapStats {
  /** Bytes of memory the heap spans (what it grew to). */
  readonly memoryBytes: number;
  /** Bytes in live blocks. */
  readonly liveBytes: number;
  readonly liveBuffers: number;
  /** Bytes sitting in free lists, ready for reuse. */
  readonly pooledBytes: number;
  /** Blocks carved from fresh memory (a pool miss). */
  readonly freshAllocations: number;
  /** Blocks served from a free list (a pool hit). */
  readonly reusedAllocations: number;
}

/**
 * V8 does not see the wasm heap, so with a small JS heap it rarely collects, and the finalizers that
 * free the buffers of dropped tensors would run far too late. In Node we ask for a collection every
 * GC_EVERY_BYTES of allocation; the finalizers then run at the next turn of the event loop (between
 * batches of an async training loop). Synchronous loops still need dispose() or tidy().
 */
const GC_EVERY_BYTES = 256 * 1024 * 1024;
const requestGc: (() => void) | null = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => any } }).process;
  const v8 = proc?.getBuiltinModule?.('node:v8');
  const vm = proc?.getBuiltinModule?.('node:vm');
  if (!v8 || !vm) return null;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

export class Heap {
  readonly memory: WebAssembly.Memory;
  private top = RESERVED;
  private readonly free = new Map<number, number[]>();
  private live = 0;
  private liveBuffers = 0;
  private pooled = 0;
  private fresh = 0;
  private reused = 0;
  private u8View: Uint8Array;
  /** Bytes handed out since the last GC request (see requestGc). */
  private allocatedSinceGc = 0;
  private readonly registry = new FinalizationRegistry<{ ptr: number; block: number }>((held) => this.release(held.ptr, held.block));

  constructor(opts: { initialPages?: number; maximumPages?: number; shared?: boolean } = {}) {
    const initial = opts.initialPages ?? 256;
    const maximum = opts.maximumPages ?? 65536;
    this.memory = new WebAssembly.Memory({ initial, maximum, ...(opts.shared ? { shared: true } : {}) } as WebAssembly.MemoryDescriptor);
    this.u8View = new Uint8Array(this.memory.buffer);
  }

  /** A byte view of the whole memory (re-made after growth). */
  get u8(): Uint8Array {
    if (this.u8View.byteLength !== this.memory.buffer.byteLength) this.u8View = new Uint8Array(this.memory.buffer);
    return this.u8View;
  }

  /** Allocates a block of at least `bytes` bytes, 16-byte aligned; returns [address, block size]. */
  alloc(bytes: number): [number, number] {
    if (bytes === 0) return [EMPTY, 0];
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    this.live += cls;
    this.liveBuffers++;
    if (list && list.length) {
      this.pooled -= cls;
      this.reused++;
      return [list.pop()!, cls];
    }
    const ptr = this.top;
    const end = ptr + cls;
    if (end > this.memory.buffer.byteLength) this.grow(end);
    this.top = end;
    this.fresh++;
    return [ptr, cls];
  }

  release(ptr: number, block: number): void {
    if (block === 0) return;
    let list = this.free.get(block);
    if (!list) this.free.set(block, (list = []));
    list.push(ptr);
    this.live -= block;
    this.liveBuffers--;
    this.pooled += block;
  }

  private grow(end: number): void {
    const have = this.memory.buffer.byteLength;
    // Grow by at least a quarter of the memory so growth stays rare.
    const want = Math.max(end, have + have / 4);
    const pages = Math.ceil((want - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new KilnError(`wasm: out of memory: cannot grow the heap from ${have} to ${end} bytes (live tensors use ${this.live} bytes; dispose() the ones you no longer need, or wrap each step in tidy(): tensors dropped without dispose are freed by finalizers, which run only when the event loop turns, never inside a synchronous loop)`);
      }
    }
  }

  /** A buffer owning a fresh block; freed by dispose or when the object is garbage collected. */
  buffer(dtype: DType, shape: Shape, bytes: number): WasmBuffer {
    this.allocatedSinceGc += bytes;
    if (this.allocatedSinceGc > Math.max(GC_EVERY_BYTES, this.live / 2)) {
      this.allocatedSinceGc = 0;
      requestGc?.();
    }
    const [ptr, block] = this.alloc(bytes);
    const b: WasmBuffer = { dtype, shape, ptr, block, owned: true };
    if (block) this.registry.register(b, { ptr, block }, b);
    return b;
  }

  /** A non-owning view at `ptr` (a scan slice). */
  view(dtype: DType, shape: Shape, ptr: number): WasmBuffer {
    return { dtype, shape, ptr, block: 0, owned: false };
  }

  /** Frees a buffer's block now; later frees (or the finalizer) are no-ops. */
  dispose(b: WasmBuffer): void {
    if (!b.owned) return;
    b.owned = false;
    if (b.block) {
      this.registry.unregister(b);
      this.release(b.ptr, b.block);
    }
  }

  stats(): HeapStats {
    return {
      memoryBytes: this.memory.buffer.byteLength,
      liveBytes: this.live,
      liveBuffers: this.liveBuffers,
      pooledBytes: this.pooled,
      freshAllocations: this.fresh,
      reusedAllocations: this.reused,
    };
  }
}
