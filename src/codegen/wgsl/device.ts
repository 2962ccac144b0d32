// The 'webgpu' Device: uploads, async reads, eager one-op kernels (from the same kernel builder and
// WGSL emitter that jit uses, cached per op signature) and compiled Functions (launch plans, one
// command buffer and one queue.submit per call unless control flow must read a predicate).
import type { HostArray } from '../../ir/array.js';
import { hostArray } from '../../ir/array.js';
import type { Block, Function } from '../../ir/function.js';
import { newValue } from '../../ir/function.js';
import type { AnyAttrs, Primitive } from '../../ir/ops.js';
import { CONTROL_OPS, inferTypes } from '../../ir/ops.js';
import { evalPrimitive } from '../../ir/interpret.js';
import { KilnError } from '../../ir/error.js';
import { typeToString } from '../../ir/shape.js';
import type { Device, DeviceBuffer, Executable } from '../device.js';
import { buildKernel, primitiveBlock } from '../kernel_build.js';
import type { GpuRuntime } from './runtime.js';
import { GpuTensorBuffer, compileKernel, compilePlan, recordKernel, runPlan, storageBytes } from './plan.js';
import type { CompiledKernel, Slot } from './plan.js';
import { gpuDType } from './types.js';

const CONTROL = new Set<string>(CONTROL_OPS);
/** Ops evaluated on the host and uploaded: they read no device data. */
const HOST_OPS = new Set<string>(['constant', 'iota']);

/** A canonical cache key for attributes: NaN, infinities and -0 kept apart (JSON would lose them). */
function attrKey(x: unknown): string {
  return JSON.stringify(x, (_, v) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? '-0' : String(v)}` : v));
}

function asGpu(b: DeviceBuffer): GpuTensorBuffer {
  if (!(b instanceof GpuTensorBuffer)) throw new KilnError(`webgpu: a buffer of another device (${typeToString(b)}) was passed to webgpu`);
  if (b.disposed) throw new KilnError(`webgpu: a disposed buffer ${typeToString(b)} was used`);
  return b;
}

export interface WebGPUDevice extends Device {
  readonly runtime: GpuRuntime;
}

export function createWebGPUDevice(rt: GpuRuntime): WebGPUDevice {
  const eager = new Map<string, CompiledKernel>();
  // Tensors dropped without dispose() give their buffer back to the pool when collected (eager code
  // rarely disposes); by then no recorded work can still need it, and later work is recorded after.
  const finalizer = new FinalizationRegistry<GPUBuffer>((buf) => rt.schedule(() => rt.release(buf)));
  const own = (b: GpuTensorBuffer, gpu: GPUBuffer): void => {
    b.gpu = gpu;
    if (!b.disposed) finalizer.register(b, gpu, b); // disposed before its work ran: dispose releases it
  };

  const upload = (a: HostArray): GpuTensorBuffer => {
    const dtype = gpuDType('upload', a.dtype);
    const bytes = storageBytes(dtype, a.data);
    rt.checkSize(`a tensor ${typeToString(a)}`, bytes.byteLength);
    const b = new GpuTensorBuffer(dtype, a.shape, null, a);
    own(b, rt.createWith(bytes));
    return b;
  };

  const fromStorage = (b: GpuTensorBuffer, raw: ArrayBuffer): HostArray => {
    const n = b.bytes / 4;
    switch (b.dtype) {
      case 'float32': return hostArray('float32', b.shape, new Float32Array(raw, 0, n));
      case 'int32': return hostArray('int32', b.shape, new Int32Array(raw, 0, n));
      case 'bool': return hostArray('bool', b.shape, new Uint32Array(raw, 0, n));
    }
  };

  const compile = (fn: Function): Executable => {
    for (const p of fn.body.params) gpuDType(`jit(${fn.name})`, p.type.dtype);
    const plan = compilePlan(rt, fn.body, fn.name);
    return {
      fn,
      run(inputs: DeviceBuffer[]): DeviceBuffer[] {
        const ins = inputs.map(asGpu);
        const outs = fn.body.results.map((v) => new GpuTensorBuffer(gpuDType(fn.name, v.type.dtype), v.type.shape, null));
        const assign = (slots: Slot[]) => slots.forEach((s, i) => own(outs[i], s.buf));
        rt.schedule(() => {
          rt.recording++;
          let r: ReturnType<typeof runPlan>;
          try {
            r = runPlan(rt, plan, ins.map((b) => ({ buf: b.buffer(), owned: false })));
          } finally {
            rt.recording--;
          }
          // A plan that waits for a predicate has submitted at each wait: the rest is one more batch.
          if (r instanceof Promise) return r.then((slots) => (assign(slots), rt.flush()));
          assign(r);
          rt.flush(); // one command buffer, one submit per call
        });
        return outs;
      },
    };
  };

  const device: WebGPUDevice = {
    name: 'webgpu',
    runtime: rt,
    upload,
    async read(b) {
      const g = asGpu(b);
      await rt.idle();
      if (g.host) return hostArray(g.host.dtype, g.host.shape, g.host.data);
      return fromStorage(g, await rt.readNow(g.buffer(), g.bytes));
    },
    readSync(b) {
      const g = asGpu(b);
      if (g.host) return g.host;
      throw new KilnError(`webgpu: the values of ${typeToString(g)} live on the GPU and WebGPU cannot read synchronously: use \`await t.data()\` (dataSync, item, tolist and valueOf need the data on the host; inside jit, branch on tensors with cond() or whileLoop() instead of item())`);
    },
    execute(prim: Primitive, inputs: DeviceBuffer[], attrs: AnyAttrs, regions: readonly Block[]): DeviceBuffer[] {
      const { device: _placement, ...a } = attrs;
      const ins = inputs.map(asGpu);
      if (HOST_OPS.has(prim)) return evalPrimitive(prim, [], a, regions).map(upload);
      if (CONTROL.has(prim) || prim === 'fusion') {
        // Rare eagerly (the frontend runs control flow as JS): a one-op Function, compiled on the spot.
        const params = ins.map((b) => newValue({ dtype: b.dtype, shape: [...b.shape] }));
        const results = inferTypes(prim, params.map((p) => p.type), a as never, regions).map((t) => newValue(t));
        const fn: Function = { name: prim, body: { params, ops: [{ prim, operands: params, attrs: a, results, regions: [...regions] }], results } };
        return compile(fn).run(ins);
      }
      const types = ins.map((b) => ({ dtype: b.dtype, shape: b.shape }));
      const key = `${prim}|${types.map(typeToString).join(',')}|${attrKey(a)}`;
      let ck = eager.get(key);
      const block = ck ? null : primitiveBlock(prim, types, a, regions);
      if (!ck) {
        ck = compileKernel(rt, buildKernel(prim, block!));
        eager.set(key, ck);
      }
      const outTypes = block ? block.results.map((v) => v.type) : inferTypes(prim, types, a as never, regions);
      const outs = outTypes.map((t) => new GpuTensorBuffer(gpuDType(prim, t.dtype), t.shape, null));
      for (const o of outs) own(o, rt.acquire(o.bytes));
      const kernel = ck;
      rt.schedule(() => recordKernel(rt, kernel, ins.map((b) => b.buffer()), outs.map((o) => o.buffer())));
      return outs;
    },
    compile,
    dispose(b) {
      const g = asGpu(b);
      g.disposed = true;
      g.host = undefined;
      finalizer.unregister(g);
      rt.schedule(() => {
        if (g.gpu) rt.release(g.gpu);
        g.gpu = null;
      });
    },
  };
  return device;
}
