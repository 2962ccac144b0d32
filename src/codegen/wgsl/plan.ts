// Launch plans compiled in process: a (fused) Function's kernels built and emitted for this device,
// then handed to the executor (exec.ts, shared with kiln/runtime). Everything a run records goes into
// the runtime's open command encoder; Executable.run flushes once at the end.
import type { Block } from '../../ir/function.js';
import type { Attrs } from '../../ir/ops.js';
import type { HostArray } from '../../ir/array.js';
import { sizeOf } from '../../ir/shape.js';
import { KilnError } from '../../ir/error.js';
import type { DeviceBuffer } from '../device.js';
import type { Kernel } from '../kernel.js';
import { buildKernel, primitiveBlock } from '../kernel_build.js';
import { castScalar } from '../../ir/interpret_scalar.js';
import { emitKernel } from './emit.js';
import type { GpuRuntime } from './runtime.js';
import { GPU_BYTES, gpuDType } from './types.js';
import type { GpuDType } from './types.js';
import { buildPlan, storageBytes } from './exec.js';
import type { CompiledKernel, Plan } from './exec.js';

export { recordKernel, runPlan, storageBytes } from './exec.js';
export type { CompiledKernel, Plan, Slot } from './exec.js';

/** A tensor's storage on the GPU. `gpu` is set once the work producing it has been recorded. */
export class GpuTensorBuffer implements DeviceBuffer {
  disposed = false;
  constructor(
    readonly dtype: GpuDType,
    readonly shape: readonly number[],
    public gpu: GPUBuffer | null,
    /** The values, when they came from the host (uploads): synchronous reads use them. */
    public host?: HostArray,
  ) {}
  get bytes(): number {
    return sizeOf(this.shape) * GPU_BYTES;
  }
  buffer(): GPUBuffer {
    if (!this.gpu) throw new KilnError('internal: webgpu: a buffer was used before the work producing it was recorded');
    return this.gpu;
  }
}

// ---- kernels -------------------------------------------------------------------------------------

export function compileKernel(rt: GpuRuntime, kernel: Kernel): CompiledKernel {
  for (const b of kernel.buffers) rt.checkSize(`kernel ${kernel.name}`, b.size * GPU_BYTES);
  const gpu = emitKernel(kernel, rt.limits);
  const pipelines = gpu.phases.map((p) => rt.pipeline(p.code));
  const consts = new Map<number, GPUBuffer>();
  kernel.buffers.forEach((b, i) => {
    if (b.role === 'const') consts.set(i, rt.createWith(storageBytes(gpuDType(kernel.name, b.dtype), b.data ?? [])));
  });
  return { gpu, pipelines, consts };
}

// ---- plans ---------------------------------------------------------------------------------------

let kernelCount = 0;

export function compilePlan(rt: GpuRuntime, block: Block, name: string): Plan {
  return buildPlan(block, {
    constant(op) {
      const { value, dtype, shape } = op.attrs as Attrs<'constant'>;
      const n = sizeOf(shape);
      const data = value.length === 1 ? new Array<number>(n).fill(value[0]) : value;
      const d = gpuDType('constant', dtype);
      return rt.createWith(storageBytes(d, data.map((v) => castScalar(v, d))));
    },
    kernel(op) {
      if (op.prim === 'fusion') return compileKernel(rt, buildKernel(`${name}_k${kernelCount++}`, op.regions[0]));
      const block1 = primitiveBlock(op.prim, op.operands.map((v) => v.type), op.attrs, op.regions);
      return compileKernel(rt, buildKernel(`${name}_${op.prim}${kernelCount++}`, block1));
    },
  });
}
