// Running an artifact's wasm section: the module is instantiated against a fresh heap, the plan is
// validated (format/wasm_plan.ts) and executed by the wasm backend's binaryen-free plan runner
// (codegen/wasm/program.ts), the same code jit uses, so results match the in-process wasm device.
import { KilnError } from '../ir/error.js';
import type { HostArray } from '../ir/array.js';
import { allocArray, BYTES } from '../ir/dtype.js';
import { sizeOf } from '../ir/shape.js';
import { parseJson, fromUtf8 } from '../format/bytes.js';
import type { WasmPlanFile } from '../format/wasm_plan.js';
import { checkWasmPlan, fromJsonNumber } from '../format/wasm_plan.js';
import { Heap } from '../codegen/wasm/heap.js';
import type { WasmBuffer } from '../codegen/wasm/heap.js';
import { PlanRunner, kernelExports, scratchArea } from '../codegen/wasm/program.js';
import type { KernelInfo, Runtime } from '../codegen/wasm/program.js';

export interface WasmProgram {
  /** Runs on host arrays (inputs then weights already uploaded); returns host copies of the outputs. */
  run(inputs: readonly HostArray[]): HostArray[];
  /** Frees the weights, constants and arena on the heap (the heap itself goes with the program). */
  dispose(): void;
}

/** Parses and checks the plan; cheap, so loading can reject a bad plan before compiling anything. */
export function readWasmPlan(planBytes: Uint8Array, paramCount: number, maxBytes: number): WasmPlanFile {
  return checkWasmPlan(parseJson('artifact: section wasm.plan', fromUtf8('artifact: section wasm.plan', planBytes)), paramCount, maxBytes);
}

function makeProgram(instance: WebAssembly.Instance, heap: Heap, plan: WasmPlanFile, weights: readonly HostArray[], inputCount: number, maxLoopIterations: number): WasmProgram {
  const upload = (a: HostArray): WasmBuffer => {
    const bytes = sizeOf(a.shape) * BYTES[a.dtype];
    const b = heap.buffer(a.dtype, [...a.shape], bytes);
    heap.u8.set(new Uint8Array(a.data.buffer, a.data.byteOffset, bytes), b.ptr);
    return b;
  };
  const read = (b: WasmBuffer): HostArray => {
    const n = sizeOf(b.shape);
    const out = allocArray(b.dtype, n);
    new Uint8Array(out.buffer).set(heap.u8.subarray(b.ptr, b.ptr + n * BYTES[b.dtype]));
    return { dtype: b.dtype, shape: [...b.shape], data: out };
  };
  const consts = plan.consts.map((c) => {
    const arr = allocArray(c.dtype, sizeOf(c.shape));
    const vals = c.data.map(fromJsonNumber);
    if (vals.length === 1 && arr.length !== 1) arr.fill(vals[0]);
    else arr.set(vals);
    return upload({ dtype: c.dtype, shape: c.shape, data: arr });
  });
  const fns = kernelExports(instance, plan.kernels.length);
  const kernels: KernelInfo[] = plan.kernels.map((k, i) => ({ fn: fns[i], scratch: k.scratch, parallel: k.parallel, consts: plan.kernelConsts[i].map((j) => consts[j]) }));
  const rt: Runtime = { heap, scratch: scratchArea(heap) };
  // One set of plan types (format/wasm_plan.ts): the checked file is what the backend's runner runs.
  const runner = new PlanRunner(plan, kernels, consts, rt);
  runner.maxLoopIterations = maxLoopIterations;
  const weightBufs = weights.map(upload);
  return {
    dispose() {
      runner.release();
      weightBufs.forEach((b) => heap.dispose(b));
    },
    run(inputs) {
      if (inputs.length !== inputCount) throw new KilnError(`artifact: the wasm program takes ${inputCount} inputs, got ${inputs.length}`);
      const ins = inputs.map(upload);
      try {
        const outs = runner.run([...ins, ...weightBufs]);
        const host = outs.map(read);
        outs.forEach((b) => heap.dispose(b));
        return host;
      } finally {
        ins.forEach((b) => heap.dispose(b));
      }
    },
  };
}

/** Instantiates (asynchronously: browsers refuse large synchronous compiles on the main thread). */
export async function loadWasmProgram(moduleBytes: Uint8Array, plan: WasmPlanFile, weights: readonly HostArray[], inputCount: number, maxLoopIterations = Infinity): Promise<WasmProgram> {
  const heap = new Heap({ initialPages: 16 });
  const { instance } = await WebAssembly.instantiate(moduleBytes as Uint8Array<ArrayBuffer>, { env: { memory: heap.memory } });
  return makeProgram(instance, heap, plan, weights, inputCount, maxLoopIterations);
}

export function loadWasmProgramSync(moduleBytes: Uint8Array, plan: WasmPlanFile, weights: readonly HostArray[], inputCount: number, maxLoopIterations = Infinity): WasmProgram {
  const heap = new Heap({ initialPages: 16 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes as Uint8Array<ArrayBuffer>), { env: { memory: heap.memory } });
  return makeProgram(instance, heap, plan, weights, inputCount, maxLoopIterations);
}
