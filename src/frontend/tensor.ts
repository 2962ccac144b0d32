// Tensor: an immutable n-d array on a device, or a traced stand-in for one inside jit.
// Op methods (`a.add(b)`) are attached in methods.ts; this file holds storage, reading and identity.
import type { HostArray } from '../ir/array.js';
import type { DType, TypedArray } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import { sizeOf, typeToString } from '../ir/shape.js';
import type { DeviceBuffer } from '../codegen/device.js';
import { getDevice, trackBuffer, untrackBuffer } from '../codegen/device.js';
import type { Trace } from './trace.js';
import type { GradNode } from './autograd/tape.js';

export type NestedArray = number | boolean | NestedArray[];

let nextTensorId = 0;

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Device name for eager tensors; for traced ones, the device the trace compiles for. */
  readonly device: string;
  /** Unique id, for tapes, caches and debugging. */
  readonly id = nextTensorId++;

  /** Eager storage; null for traced tensors and after dispose(). */
  private buffer: DeviceBuffer | null;
  /** The trace this tensor belongs to (null when eager) and that trace's data for it. */
  readonly _trace: Trace | null;
  readonly _payload: unknown;

  /** Autograd state (PyTorch semantics). */
  requiresGrad = false;
  grad: Tensor | null = null;
  _node: GradNode | null = null;
  /** Set on leaves by retainGrad-like APIs; non-leaf grads are kept only when true. */
  _retainGrad = false;

  private constructor(dtype: DType, shape: readonly number[], device: string, buffer: DeviceBuffer | null, trace: Trace | null, payload: unknown) {
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.device = device;
    this.buffer = buffer;
    this._trace = trace;
    this._payload = payload;
  }

  /** Set by tidy() (memory.ts): told of every eager tensor made while a scope may be open. */
  static _onCreate: ((t: Tensor) => void) | null = null;
  /** Set while a built-in module runs (nn/module.ts): collects the eager tensors it makes. */
  static _collect: Tensor[] | null = null;

  /** Wraps a device buffer (ownership moves to the tensor; memory() counts it until dispose or GC). */
  static _fromBuffer(buffer: DeviceBuffer, device: string): Tensor {
    trackBuffer(device, buffer);
    const t = new Tensor(buffer.dtype, buffer.shape, device, buffer, null, null);
    Tensor._onCreate?.(t);
    Tensor._collect?.push(t);
    return t;
  }

  /** A traced tensor: shape and dtype only, plus the trace's payload. */
  static _traced(trace: Trace, dtype: DType, shape: readonly number[], device: string, payload: unknown): Tensor {
    return new Tensor(dtype, shape, device, null, trace, payload);
  }

  /** Uploads host data to a device. */
  static _fromHost(a: HostArray, device: string): Tensor {
    return Tensor._fromBuffer(getDevice(device).upload(a), device);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get isTraced(): boolean {
    return this._trace !== null;
  }
  get isDisposed(): boolean {
    return this._trace === null && this.buffer === null;
  }
  /** True for tensors created by the user rather than by an op (PyTorch's is_leaf). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** The eager buffer; throws a clear error for traced or disposed tensors. */
  _buf(): DeviceBuffer {
    if (this.buffer) return this.buffer;
    if (this._trace) throw new KilnError(`tensor ${this.describe()} is a tracer inside ${this._trace.name} and has no data`);
    throw new KilnError(`tensor ${this.describe()} was disposed and can no longer be used`);
  }

  /** `f32[3,4]`, the notation of every error message. */
  describe(): string {
    return typeToString(this);
  }

  /** Host copy of the data; inside a trace this asks the trace (jit records a guard). */
  _host(why: string): HostArray {
    if (this._trace) return this._trace.concretize(this, why);
    return getDevice(this.device).readSync(this._buf());
  }

  /** Reads the values (a fresh typed array), waiting for the device if needed. */
  async data(): Promise<TypedArray> {
    if (this._trace) return this._host('data()').data.slice();
    const a = await getDevice(this.device).read(this._buf());
    return a.data.slice();
  }

  /** Reads the values synchronously (not available on WebGPU: use `await t.data()`). */
  dataSync(): TypedArray {
    return this._host('dataSync()').data.slice();
  }

  /** The single value of a one-element tensor as a JS number (booleans as true/false). */
  item(): number | boolean {
    if (this.size !== 1) throw new KilnError(`item: only one-element tensors can be read as a scalar, got ${this.describe()}`);
    const v = this._host('item()').data[0];
    return this.dtype === 'bool' ? v !== 0 : v;
  }

  /** Nested JS arrays of the values, shaped like the tensor. */
  tolist(): NestedArray {
    const a = this._host('tolist()');
    const conv = (v: number): number | boolean => (this.dtype === 'bool' ? v !== 0 : v);
    const build = (dim: number, offset: number, stride: number): NestedArray => {
      if (dim === this.shape.length) return conv(a.data[offset]);
      const inner = stride / (this.shape[dim] || 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.size);
  }

  /** `Number(t)`, `t > 0`, template strings: a scalar's value (inside jit this is a guard). */
  valueOf(): number {
    if (this.size !== 1) throw new KilnError(`valueOf: only one-element tensors convert to a number, got ${this.describe()} (use t.sum() or t.item())`);
    return Number(this._host('valueOf()').data[0]);
  }

  /**
   * A copy on another device (this tensor itself when it is already there). Synchronous, so the
   * source must be readable synchronously: a WebGPU result is not (use `await t.toAsync(device)`).
   */
  to(device: string): Tensor {
    if (device === this.device) return this;
    if (this._trace) throw new KilnError(`to: cannot move a traced tensor ${this.describe()} to '${device}' inside ${this._trace.name}; move the arguments before calling it`);
    let host: HostArray;
    try {
      host = getDevice(this.device).readSync(this._buf());
    } catch (e) {
      if (!(e instanceof KilnError)) throw e;
      throw new KilnError(`to('${device}'): ${this.describe()} on '${this.device}' cannot be read synchronously; use \`await t.toAsync('${device}')\` (${e.message})`);
    }
    return Tensor._fromHost(host, device);
  }

  /** A copy on another device, waiting for the source device when it must (any device pair). */
  async toAsync(device: string): Promise<Tensor> {
    if (device === this.device) return this;
    if (this._trace) return this.to(device);
    return Tensor._fromHost(await getDevice(this.device).read(this._buf()), device);
  }

  /**
   * Moves `src`'s storage into this tensor (src becomes disposed). The one exception to immutability:
   * eager optimizers update parameters in place this way, as PyTorch does, so modules keep their tensors.
   */
  _assign(src: Tensor): void {
    if (this._trace || src._trace) throw new KilnError('assign: parameters can only be updated in place eagerly; inside jit return the new values instead');
    if (src.dtype !== this.dtype || src.shape.length !== this.shape.length || src.shape.some((d, i) => d !== this.shape[i])) {
      throw new KilnError(`assign: cannot assign ${src.describe()} to a parameter of type ${this.describe()}`);
    }
    if (src.device !== this.device) throw new KilnError(`assign: value is on ${src.device}, parameter on ${this.device}`);
    const buffer = src._buf();
    src.buffer = null;
    if (this.buffer && this.buffer !== buffer) {
      untrackBuffer(this.buffer);
      getDevice(this.device).dispose(this.buffer);
    }
    this.buffer = buffer;
  }

  /** Frees the device buffer now. Later use throws; disposing twice is harmless. */
  dispose(): void {
    if (this.buffer) {
      untrackBuffer(this.buffer);
      getDevice(this.device).dispose(this.buffer);
      this.buffer = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
