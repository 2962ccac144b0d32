// Compiled code for an artifact: each backend that can produce a loadable form of the optimized
// Function contributes sections. wasm: the module bytes (kernels k0..kn over an imported memory) and
// its launch plan as JSON (section wasm.plan), both made by the wasm backend exactly as jit compiles.
// WebGPU is not exported yet. A backend that cannot compile the function (float64, say) is skipped.
import type { Function as IRFunction } from '../../ir/function.js';
import { KilnError } from '../../ir/error.js';
import type { Section } from '../../format/container.js';
import type { Backend } from '../../format/manifest.js';
import type { WasmPlanFile } from '../../format/wasm_plan.js';
import { WASM_PLAN_VERSION, toJsonNumber } from '../../format/wasm_plan.js';

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
  const mod = compileKernels(plan.kernels, { optimize: 2 });
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
  if (wanted?.includes('webgpu')) throw new KilnError('exportArtifact: WebGPU code cannot be exported yet (the artifact runs on the wasm backend or the interpreter)');
  return out;
}
