// Compiled code for an artifact: each backend that can produce a loadable form of the optimized
// Function contributes sections here. None can yet (the wasm backend and WebGPU are being written);
// until then artifacts carry the IR, which the runtime's interpreter runs.
import type { Function as IRFunction } from '../../ir/function.js';
import type { Section } from '../../format/container.js';
import type { Backend } from '../../format/manifest.js';

export interface CompiledSections {
  readonly backend: Exclude<Backend, 'interpreter'>;
  readonly sections: readonly Section[];
  readonly kernels: number;
}

export async function compiledSections(_fn: IRFunction, _wanted?: readonly Exclude<Backend, 'interpreter'>[]): Promise<CompiledSections[]> {
  return [];
}
