// Compiled code for an artifact: each backend that can produce a loadable form of the optimized
// Function contributes sections. wasm: the module bytes (kernels k0..kn over an imported memory) and
// its launch plan as JSON (section wasm.plan), both made by the wasm backend exactly as jit compiles.
// webgpu: the WGSL kernels with their buffers and launch sizes (section wgsl), built and emitted the
// way the webgpu device compiles them, for the WebGPU default limits (so any adapter runs them); the
// control flow is the IR's own. A backend that cannot compile the function (float64, say) is skipped.
import type { Function as IRFunction } from '../../ir/function.js';
import { KilnError } from '../../ir/error.js';
import type { Section } from '../../format/container.js';
import type { Backend } from '../../format/manifest.js';
import type { WasmPlanFile } from '../../format/wasm_plan.js';
import { WASM_PLAN_VERSION, toJsonNumber } from '../../format/wasm_plan.js';
import type { WgslPlanFile } from '../../format/wgsl_plan.js';
import { WGSL_PLAN_VERSION } from '../../format/wgsl_plan.js';
import { sizeOf, typeToString } from '../../ir/shape.js';

export interface CompiledSections {
  readonly backend: Exclude<Backend, 'interpreter'>;
  readonly sections: readonly Section[];
  readonly kernels: number;
}

/** Why a backend was left out of the last export (for inspect and tests). */
export const skipped: Partial<Record<Exclude<Backend, 'interpreter'>, string>> = {};

async function wasmSections(fn: IRFunction): Promise<CompiledSections> {
  // Loaded lazily: binaryen is large and only export needs it, never the runtime.
  const [{ planFunction }, { compileKernels }] = await Promise.all([import('../../codegen/wasm/plan.js'), import('../../codegen/wasm/compile.js')]);
  const plan = planFunction(fn);
  // The same code the wasm device runs for jit (optimize 0, no relaxed SIMD so any SIMD engine loads it),
  // so an artifact computes what the tests check in-process, bit for bit. binaryen -O1/-O2 made the conv
  // packing kernels compute wrong values (2026-11-28: a demo CNN's logits off by ~10, or a trap), so the
  // emitter's output is not yet safe for binaryen's optimizer; the device leaves it off as well.
  const mod = compileKernels(plan.kernels, { optimize: 0 });
  const file: WasmPlanFile = {
    version: WASM_PLAN_VERSION,
    main: plan.main,
    consts: plan.consts.map((c) => ({ dtype: c.dtype, shape: [...c.shape], data: c.data.map(toJsonNumber) })),
    kernelConsts: plan.kernelConsts,
    kernels: plan.kernels.map((k, i) => ({ scratch: mod.scratch[i], parallel: k.parallel })),
  };
  return {
    backend: 'wasm',
    kernels: plan.kernels.length,
    sections: [
      { name: 'wasm', bytes: mod.bytes },
      { name: 'wasm.plan', bytes: new TextEncoder().encode(JSON.stringify(file)) },
    ],
  };
}

async function wgslSections(fn: IRFunction): Promise<CompiledSections> {
  const [{ kernelOps }, { buildKernel, primitiveBlock }, { emitKernel, DEFAULT_LIMITS }, { gpuDType }] = await Promise.all([
    import('../../codegen/wgsl/exec.js'),
    import('../../codegen/kernel_build.js'),
    import('../../codegen/wgsl/emit.js'),
    import('../../codegen/wgsl/types.js'),
  ]);
  for (const p of fn.body.params) gpuDType(`exportArtifact(${fn.name})`, p.type.dtype);
  const kernels = kernelOps(fn.body).map((op, i) => {
    const block = op.prim === 'fusion' ? op.regions[0] : primitiveBlock(op.prim, op.operands.map((v) => v.type), op.attrs, op.regions);
    const kernel = buildKernel(`${fn.name}_k${i}`, block);
    // The runtime binds the op's operands and results to the kernel's input and output buffers in order.
    const ins = kernel.buffers.filter((b) => b.role === 'input');
    const outs = kernel.buffers.filter((b) => b.role === 'output');
    const fits = (bs: typeof ins, vs: typeof op.operands) => bs.length === vs.length && bs.every((b, j) => b.dtype === vs[j].type.dtype && b.size === sizeOf(vs[j].type.shape));
    if (!fits(ins, op.operands) || !fits(outs, op.results)) throw new KilnError(`internal: the ${op.prim} kernel's buffers do not match its operands (${op.operands.map((v) => typeToString(v.type)).join(', ')})`);
    const gpu = emitKernel(kernel, DEFAULT_LIMITS);
    return {
      name: kernel.name,
      buffers: kernel.buffers.map((b) => {
        const dtype = gpuDType(kernel.name, b.dtype);
        return b.role === 'const' ? { role: b.role, dtype, size: b.size, data: (b.data ?? []).map(toJsonNumber) } : { role: b.role, dtype, size: b.size };
      }),
      phases: gpu.phases.map((ph) => ({
        code: ph.code,
        bindings: [...ph.bindings],
        ...(ph.pack ? { pack: { buffers: [...ph.pack.buffers], offsets: [...ph.pack.offsets], words: ph.pack.words } } : {}),
        workgroups: ph.workgroups,
        threads: ph.threads,
        mode: ph.mode,
        ...(ph.scratchWords !== undefined ? { scratchWords: ph.scratchWords } : {}),
      })),
    };
  });
  const file: WgslPlanFile = { version: WGSL_PLAN_VERSION, limits: DEFAULT_LIMITS, kernels };
  return { backend: 'webgpu', kernels: kernels.length, sections: [{ name: 'wgsl', bytes: new TextEncoder().encode(JSON.stringify(file)) }] };
}

export async function compiledSections(fn: IRFunction, wanted?: readonly Exclude<Backend, 'interpreter'>[]): Promise<CompiledSections[]> {
  const out: CompiledSections[] = [];
  const want = (b: Exclude<Backend, 'interpreter'>) => wanted === undefined || wanted.includes(b);
  if (want('wasm')) {
    try {
      out.push(await wasmSections(fn));
      delete skipped.wasm;
    } catch (e) {
      // Asked for explicitly: an error; by default the artifact simply carries no wasm.
      if (wanted?.includes('wasm')) throw new KilnError(`exportArtifact: the wasm backend cannot compile ${fn.name}: ${e instanceof Error ? e.message : String(e)}`);
      skipped.wasm = e instanceof Error ? e.message : String(e);
    }
  }
  if (want('webgpu')) {
    try {
      out.push(await wgslSections(fn));
      delete skipped.webgpu;
    } catch (e) {
      if (wanted?.includes('webgpu')) throw new KilnError(`exportArtifact: the webgpu backend cannot compile ${fn.name}: ${e instanceof Error ? e.message : String(e)}`);
      skipped.webgpu = e instanceof Error ? e.message : String(e);
    }
  }
  return out;
}
