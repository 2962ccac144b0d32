// The 'wasm' device: tensors live in one WebAssembly.Memory; eager ops run one-op kernels compiled
// once per (op, attributes, input types) and cached; compile(fn) builds one module holding every
// kernel of a (fused) Function plus a launch plan.
import type { HostArray } from '../../ir/array.js';
import type { Block, Function } from '../../ir/function.js';
import type { AnyAttrs, Attrs, Primitive } from '../../ir/ops.js';
import { inferTypes, opRow } from '../../ir/ops.js';
import type { DType } from '../../ir/dtype.js';
import { allocArray } from '../../ir/dtype.js';
import { sizeOf } from '../../ir/shape.js';
import type { TensorType } from '../../ir/shape.js';
import { castScalar } from '../../ir/interpret_scalar.js';
import { KilnError } from '../../ir/error.js';
import { evalPrimitive, interpret } from '../../ir/interpret.js';
import { newValue } from '../../ir/function.js';
import type { CompileOptions, Device, DeviceBuffer, Executable } from '../device.js';
import { registerDevice } from '../device.js';
import type { Kernel } from '../kernel.js';
import { buildKernel, primitiveBlock } from '../kernel_build.js';
import { Heap } from './heap.js';
import type { WasmBuffer } from './heap.js';
import { BYTES_OF } from './emit.js';
import { compileKernels } from './compile.js';
import { planFunction } from './plan.js';
import { PlanRunner, instantiate, kernelError, scratchArea } from './program.js';
import type { KernelFn, KernelInfo, Runtime } from './program.js';
import { family } from './emit_ops.js';
import { ThreadPool, defaultThreads, threadsAvailable } from './threads.js';
import { relaxedSimd } from './features.js';
import { estimateWork } from '../kernel.js';

export interface WasmDeviceOptions {
  /**
   * binaryen optimize level for compiled Functions (jit). Default 0: measured on softmax, an MLP
   * training step and the elementwise chain, -O1/-O2 run no faster under V8 (TurboFan does the same
   * work, and binaryen's constant propagation undoes the vector constant pool) while compiling 2-7x
   * slower.
   */
  readonly optimize?: number;
  /** binaryen optimize level for eager one-op kernels (compile speed matters more). */
  readonly eagerOptimize?: number;
  /** Threads per kernel launch (default: the machine's cores, or KILN_THREADS); 1 runs on this thread only. */
  readonly threads?: number;
}

/** Kernels with less estimated work than this run on one thread (a hand-off costs ~20-50 us). */
const PARALLEL_WORK = 1 << 17;

export interface WasmDeviceStats {
  readonly eagerKernels: number;
  readonly eagerCompileMs: number;
  readonly executables: number;
  readonly compileMs: number;
  /** Kernel launches split across threads. */
  readonly parallelLaunches: number;
}

export interface WasmDevice extends Device {
  readonly heap: Heap;
  /** Threads per kernel launch (settable; 1 disables the worker pool). */
  threads: number;
  stats(): WasmDeviceStats;
  /** The worker pool (null without threads); tests reach its crash hooks through it. */
  readonly _pool: ThreadPool | null;
}

interface EagerKernel {
  readonly info: KernelInfo;
  readonly kernel: Kernel;
  readonly out: readonly TensorType[];
}

/** A canonical cache key for attribute values (sorted keys; -0 and NaN spelled out; `device` ignored). */
function keyOf(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (Array.isArray(x)) {
    let s = '[';
    for (let i = 0; i < x.length; i++) s += (i ? ',' : '') + keyOf(x[i]);
    return s + ']';
  }
  if (x && typeof x === 'object') {
    const keys = Object.keys(x);
    if (keys.length === 0) return '{}';
    if (keys.length > 1) keys.sort();
    let s = '{';
    for (const k of keys) if (k !== 'device') s += `${k}:${keyOf((x as Record<string, unknown>)[k])},`;
    return s + '}';
  }
  return typeof x === 'string' ? x : String(x);
}

const typeKey = (t: TensorType) => `${t.dtype}[${t.shape.join(',')}]`;

function checkDType(what: string, d: DType): void {
  family(d); // throws the float64 message
  void what;
}

/** Whether any value of a block (regions included) is float64. */
function usesFloat64(b: Block): boolean {
  const f64 = (v: { type: TensorType }) => v.type.dtype === 'float64';
  return b.params.some(f64) || b.ops.some((op) => op.results.some(f64) || op.operands.some(f64) || op.regions.some(usesFloat64));
}

export function createWasmDevice(opts: WasmDeviceOptions = {}): WasmDevice {
  // Shared memory whenever worker threads could be used, so the thread count can change later.
  const heap = new Heap({ shared: threadsAvailable });
  const pool = threadsAvailable ? new ThreadPool(heap, opts.threads ?? defaultThreads()) : null;
  const eager = new Map<string, EagerKernel>();
  const counters = { eagerKernels: 0, eagerCompileMs: 0, executables: 0, compileMs: 0, parallelLaunches: 0 };
  const rt: Runtime = {
    heap,
    scratch: scratchArea(heap),
    launch(k: KernelInfo, args: number[]): void {
      if (pool && pool.threads > 1 && k.module !== undefined && k.parallel > 1 && (k.work ?? 0) >= PARALLEL_WORK) {
        counters.parallelLaunches++;
        pool.run(k.module, k.index!, args, k.parallel, k.scratch, (a) => k.fn(...a));
      } else k.fn(...args);
    },
  };
  /** Instantiates module bytes here and registers them with the pool (workers load them lazily). */
  const load = (bytes: Uint8Array, count: number): { fns: KernelFn[]; module: number | undefined } => {
    const fns = instantiate(bytes, heap.memory, count);
    return { fns, module: pool?.register(bytes) };
  };
  const bytesOf = (t: TensorType) => sizeOf(t.shape) * BYTES_OF[t.dtype];
  const alloc = (t: TensorType): WasmBuffer => heap.buffer(t.dtype, [...t.shape], bytesOf(t));
  const upload = (a: HostArray): WasmBuffer => {
    const b = alloc(a);
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, bytesOf(a));
    heap.u8.set(bytes, b.ptr);
    return b;
  };
  const uploadValues = (dtype: DType, shape: readonly number[], data: readonly number[]): WasmBuffer => {
    const arr = allocArray(dtype, sizeOf(shape));
    if (data.length === 1 && arr.length !== 1) arr.fill(data[0]);
    else arr.set(data);
    return upload({ dtype, shape, data: arr });
  };
  const read = (b: DeviceBuffer): HostArray => {
    const w = b as WasmBuffer;
    if (!w.owned && w.block !== 0) throw new KilnError(`wasm: reading a buffer that was disposed (${w.dtype}[${w.shape.join(',')}])`);
    const n = sizeOf(w.shape);
    const out = allocArray(w.dtype, n);
    const bytes = n * BYTES_OF[w.dtype];
    new Uint8Array(out.buffer).set(heap.u8.subarray(w.ptr, w.ptr + bytes));
    return { dtype: w.dtype, shape: [...w.shape], data: out };
  };

  function compileEager(prim: Primitive, types: TensorType[], attrs: AnyAttrs): EagerKernel {
    const out = inferTypes(prim, types, attrs as never);
    for (const t of [...types, ...out]) checkDType(prim, t.dtype);
    const kernel = buildKernel(prim, primitiveBlock(prim, types, attrs));
    const mod = compileKernels([kernel], { optimize: opts.eagerOptimize ?? 0, shared: threadsAvailable, relaxed: relaxedSimd });
    const { fns, module } = load(mod.bytes, 1);
    counters.eagerKernels++;
    counters.eagerCompileMs += mod.compileMs;
    const consts = kernel.buffers.filter((b) => b.role === 'const').map((b) => uploadValues(b.dtype, [b.size], b.data!));
    const info: KernelInfo = { fn: fns[0], scratch: mod.scratch[0], parallel: kernel.parallel, consts, module, index: 0, work: estimateWork(kernel) };
    return { info, kernel, out };
  }

  function runEager(prim: Primitive, k: EagerKernel, inputs: WasmBuffer[]): WasmBuffer[] {
    const outs = k.out.map(alloc);
    const args: number[] = [];
    const info = k.info;
    for (const b of inputs) args.push(b.ptr);
    for (const c of info.consts) args.push(c.ptr);
    for (const b of outs) args.push(b.ptr);
    args.push(info.scratch ? rt.scratch(info.scratch) : 0, 0, info.parallel);
    try {
      rt.launch!(info, args);
    } catch (e) {
      outs.forEach((b) => heap.dispose(b));
      kernelError(prim, e);
    }
    return outs;
  }

  /** float64 runs on the reference interpreter over host copies (kernels are float32/int32/bool). */
  function interpreted(fn: Function): Executable {
    return {
      fn,
      run: (inputs) => interpret(fn, inputs.map(read)).map(upload),
    };
  }

  function compile(fn: Function, copts?: CompileOptions): Executable {
    void copts; // donation: buffers are pooled, so reusing parameters saves little; not used yet
    if (usesFloat64(fn.body)) return interpreted(fn);
    const t0 = performance.now();
    const plan = planFunction(fn);
    const mod = compileKernels(plan.kernels, { optimize: opts.optimize ?? 0, shared: threadsAvailable, relaxed: relaxedSimd });
    const { fns, module } = load(mod.bytes, plan.kernels.length);
    const consts = plan.consts.map((c) => uploadValues(c.dtype, c.shape, c.data));
    const kernels: KernelInfo[] = plan.kernels.map((k, i) => ({
      fn: fns[i], scratch: mod.scratch[i], parallel: k.parallel, consts: plan.kernelConsts[i].map((j) => consts[j]), module, index: i, work: estimateWork(k),
    }));
    const runner = new PlanRunner(plan, kernels, consts, rt);
    counters.executables++;
    counters.compileMs += performance.now() - t0;
    const exe = {
      fn,
      run(inputs: DeviceBuffer[]): DeviceBuffer[] {
        inputs.forEach((b, i) => {
          const p = fn.body.params[i];
          if (!p || b.dtype !== p.type.dtype || sizeOf(b.shape) !== sizeOf(p.type.shape)) {
            throw new KilnError(`wasm: executable @${fn.name} expects ${fn.body.params.map((q) => typeKey(q.type)).join(', ')}, got ${inputs.map((x) => typeKey(x)).join(', ')}`);
          }
        });
        return runner.run(inputs as WasmBuffer[]);
      },
    };
    finalizer.register(exe, { runner, module });
    return exe;
  }
  const finalizer = new FinalizationRegistry<{ runner: PlanRunner; module: number | undefined }>(({ runner, module }) => {
    runner.release();
    if (module !== undefined) pool?.drop(module);
  });

  const device: WasmDevice = {
    name: 'wasm',
    heap,
    upload,
    read: async (b) => read(b),
    readSync: read,
    execute(prim, inputs, attrs, regions: readonly Block[]) {
      const ins = inputs as WasmBuffer[];
      if (prim === 'constant') {
        const { value, dtype, shape } = attrs as Attrs<'constant'>;
        inferTypes('constant', [], attrs as never);
        return [uploadValues(dtype, shape, value.map((v) => castScalar(v, dtype)))];
      }
      if (opRow(prim).category === 'control' || prim === 'fusion') {
        // Rare eagerly (control flow runs as plain JS in eager mode): compile a one-op Function.
        const params = ins.map((b) => newValue({ dtype: b.dtype, shape: [...b.shape] }));
        const types = inferTypes(prim, ins.map((b) => ({ dtype: b.dtype, shape: b.shape })), attrs as never, regions);
        const results = types.map((t) => newValue(t));
        const f: Function = { name: prim, body: { params, ops: [{ prim, operands: params, attrs, results, regions }], results } };
        return compile(f).run(ins);
      }
      let key = `${prim}|${keyOf(attrs)}`;
      let f64 = (attrs as { dtype?: unknown }).dtype === 'float64';
      for (const b of ins) {
        key += `|${b.dtype}[${b.shape.join(',')}]`;
        f64 ||= b.dtype === 'float64';
      }
      if (f64) return evalPrimitive(prim, ins.map(read), attrs, regions).map(upload);
      let k = eager.get(key);
      if (!k) {
        k = compileEager(prim, ins.map((b) => ({ dtype: b.dtype, shape: b.shape })), attrs);
        eager.set(key, k);
      }
      return runEager(prim, k, ins);
    },
    compile,
    dispose(b) {
      heap.dispose(b as WasmBuffer);
    },
    get threads() {
      return pool?.threads ?? 1;
    },
    set threads(n: number) {
      if (pool) pool.threads = n;
      else if (n > 1) throw new KilnError('wasm: threads are not available here (no worker_threads or SharedArrayBuffer); running on one thread');
    },
    stats: () => ({ ...counters }),
    _pool: pool,
  };
  return device;
}

registerDevice('wasm', () => createWasmDevice());
