// Running an artifact's wgsl section on WebGPU: the section's kernels are checked against the IR's
// kernel ops, their WGSL compiled into pipelines (errors caught at load), the weights uploaded once,
// and each call executed by the webgpu backend's plan executor (codegen/wgsl/exec.ts, the code jit
// uses), control flow taken from the IR. Outputs match the in-process model within f32 tolerance.
import { KilnError } from '../ir/error.js';
import type { HostArray } from '../ir/array.js';
import type { Function } from '../ir/function.js';
import type { Attrs } from '../ir/ops.js';
import { sizeOf, typeToString } from '../ir/shape.js';
import { castScalar } from '../ir/interpret_scalar.js';
import { fromUtf8, parseJson } from '../format/bytes.js';
import { fromJsonNumber } from '../format/wasm_plan.js';
import { checkWgslPlan } from '../format/wgsl_plan.js';
import type { WgslPlanFile } from '../format/wgsl_plan.js';
import { GpuRuntime } from '../codegen/wgsl/runtime.js';
import { buildPlan, kernelOps, runPlan, storageBytes } from '../codegen/wgsl/exec.js';
import type { CompiledKernel } from '../codegen/wgsl/exec.js';
import { requestGpuDevice } from '../codegen/wgsl/adapter.js';

type GpuDType = 'float32' | 'int32' | 'bool';

/** Parses the section and checks it against the IR: one kernel per kernel op, buffers matching operands and results. */
export function readWgslPlan(bytes: Uint8Array, fn: Function, maxElements: number): WgslPlanFile {
  const plan = checkWgslPlan(parseJson('artifact: section wgsl', fromUtf8('artifact: section wgsl', bytes)), maxElements);
  for (const p of fn.body.params) if (p.type.dtype === 'float64') throw new KilnError(`artifact: section wgsl: the IR takes ${typeToString(p.type)}, which WebGPU cannot hold`);
  const ops = kernelOps(fn.body);
  if (ops.length !== plan.kernels.length) throw new KilnError(`artifact: section wgsl: holds ${plan.kernels.length} kernels, the IR needs ${ops.length}`);
  ops.forEach((op, i) => {
    const k = plan.kernels[i];
    const side = (role: 'input' | 'output', vals: typeof op.operands) => {
      const bs = k.buffers.filter((b) => b.role === role);
      const ok = bs.length === vals.length && bs.every((b, j) => b.dtype === vals[j].type.dtype && b.size === sizeOf(vals[j].type.shape));
      if (!ok) {
        throw new KilnError(`artifact: section wgsl: kernel ${i} (${k.name}) has ${role}s ${bs.map((b) => `${b.dtype}[${b.size}]`).join(', ') || 'none'} but its ${op.prim} op has ${vals.map((v) => typeToString(v.type)).join(', ') || 'none'}`);
      }
    };
    side('input', op.operands);
    side('output', op.results);
    for (const ph of k.phases) if (ph.pack) for (const b of ph.pack.buffers) if (k.buffers[b].role === 'output') throw new KilnError(`artifact: section wgsl: kernel ${i} packs an output buffer`);
  });
  return plan;
}

export interface WebGPUProgram {
  readonly adapter: string;
  run(inputs: readonly HostArray[]): Promise<HostArray[]>;
  /** Destroys the buffers it made (weights, constants) after the work before it; a device it requested itself is destroyed too. */
  dispose(): void;
}

export interface WebGPUProgramOptions {
  /** Use this GPUDevice (an app that owns one) instead of requesting an adapter. */
  device?: GPUDevice;
  maxLoopIterations: number;
}

function fromStorage(dtype: GpuDType, shape: readonly number[], raw: ArrayBuffer): HostArray {
  const n = sizeOf(shape);
  switch (dtype) {
    case 'float32': return { dtype, shape: [...shape], data: new Float32Array(raw, 0, n) };
    case 'int32': return { dtype, shape: [...shape], data: new Int32Array(raw, 0, n) };
    case 'bool': return { dtype, shape: [...shape], data: Uint8Array.from(new Uint32Array(raw, 0, n)) };
  }
}

/** Shaders that do not compile are a KilnError at load (WebGPU reports them asynchronously otherwise). */
async function compilePipelines(rt: GpuRuntime, plan: WgslPlanFile): Promise<GPUComputePipeline[][]> {
  const dev = rt.device;
  dev.pushErrorScope('validation');
  const pipelines = plan.kernels.map((k) => k.phases.map((p) => rt.pipeline(p.code)));
  const error = await dev.popErrorScope();
  if (error) throw new KilnError(`artifact: section wgsl: a shader does not compile on this device: ${error.message}`);
  return pipelines;
}

export async function loadWebGPUProgram(fn: Function, plan: WgslPlanFile, weights: readonly HostArray[], options: WebGPUProgramOptions): Promise<WebGPUProgram> {
  const got = options.device ? { device: options.device, adapterName: 'provided device' } : await requestGpuDevice();
  const { device } = got;
  const dl = device.limits;
  const need: [string, number, number][] = [
    ['maxStorageBuffersPerShaderStage', plan.limits.maxStorageBuffers, dl.maxStorageBuffersPerShaderStage],
    ['maxComputeInvocationsPerWorkgroup', plan.limits.maxThreads, dl.maxComputeInvocationsPerWorkgroup],
    ['maxComputeWorkgroupsPerDimension', plan.limits.maxWorkgroupsPerDim, dl.maxComputeWorkgroupsPerDimension],
    ['maxComputeWorkgroupStorageSize', plan.limits.maxWorkgroupStorage, dl.maxComputeWorkgroupStorageSize],
  ];
  for (const [name, want, have] of need) if (have < want) throw new KilnError(`artifact: section wgsl: its shaders need ${name} >= ${want}, this device offers ${have}`);
  // The shaders were emitted for the file's limits (a large launch folds into a grid of that width).
  const rt = new GpuRuntime(device, { ...plan.limits, maxBindingSize: Math.min(dl.maxStorageBufferBindingSize, dl.maxBufferSize) });
  const pipelines = await compilePipelines(rt, plan);
  const upload = (a: HostArray): GPUBuffer => {
    const bytes = storageBytes(a.dtype as GpuDType, a.data);
    rt.checkSize(`a tensor ${typeToString(a)}`, bytes.byteLength);
    return rt.createWith(bytes);
  };
  // Everything made once at load and kept across calls: released by dispose().
  const kept: GPUBuffer[] = [];
  const keep = (b: GPUBuffer) => (kept.push(b), b);
  let next = 0;
  const gpuPlan = buildPlan(fn.body, {
    kernel(): CompiledKernel {
      const i = next++;
      const k = plan.kernels[i];
      for (const b of k.buffers) rt.checkSize(`kernel ${k.name}`, b.size * 4);
      const consts = new Map<number, GPUBuffer>();
      k.buffers.forEach((b, j) => {
        if (b.role !== 'const') return;
        const vals = (b.data ?? []).map(fromJsonNumber);
        const full = vals.length === 1 && b.size !== 1 ? new Array<number>(b.size).fill(vals[0]) : vals;
        consts.set(j, keep(rt.createWith(storageBytes(b.dtype, full))));
      });
      return { gpu: { kernel: { name: k.name, buffers: k.buffers }, phases: k.phases }, pipelines: pipelines[i], consts };
    },
    constant(op) {
      const { value, dtype, shape } = op.attrs as Attrs<'constant'>;
      if (dtype === 'float64') throw new KilnError(`artifact: section wgsl: a constant ${typeToString({ dtype, shape })} cannot live on WebGPU`);
      const n = sizeOf(shape);
      const data = value.length === 1 ? new Array<number>(n).fill(value[0]) : value;
      return keep(rt.createWith(storageBytes(dtype, data.map((v) => castScalar(v, dtype)))));
    },
  });
  const weightBufs = weights.map((w) => keep(upload(w)));
  const results = fn.body.results.map((r) => r.type);
  return {
    adapter: got.adapterName,
    dispose() {
      rt.schedule(() => {
        kept.forEach((b) => b.destroy());
        if (!options.device) device.destroy();
      });
    },
    async run(inputs) {
      const ins = inputs.map(upload);
      let outs: HostArray[] | undefined;
      try {
        rt.schedule(() => {
          rt.recording++;
          let r: ReturnType<typeof runPlan>;
          try {
            r = runPlan(rt, gpuPlan, [...ins, ...weightBufs].map((buf) => ({ buf, owned: false })), undefined, options.maxLoopIterations);
          } finally {
            rt.recording--;
          }
          return Promise.resolve(r).then(async (slots) => {
            try {
              const host: HostArray[] = [];
              // readNow submits what was recorded (the whole call: one command buffer) before its copy.
              for (let i = 0; i < slots.length; i++) {
                const t = results[i];
                host.push(fromStorage(t.dtype as GpuDType, t.shape, await rt.readNow(slots[i].buf, sizeOf(t.shape) * 4)));
              }
              outs = host;
            } finally {
              slots.forEach((s) => s.owned && rt.release(s.buf));
            }
          });
        });
        await rt.idle();
      } finally {
        ins.forEach((b) => b.destroy());
      }
      if (!outs) throw new KilnError('artifact: the webgpu run produced no outputs');
      return outs;
    },
  };
}
