// Builds one wasm module from many kernels: each kernel becomes an exported function over the
// shared memory (imported as env.memory). The module is validated, optimized, emitted and always
// disposed; what comes back is the bytes and, instantiated, the kernel functions.
import { KilnError } from '../../ir/error.js';
import type { Kernel } from '../kernel.js';
import { printKernel } from '../kernel.js';
import binaryen from './binaryen.js';
import { KernelEmitter } from './emit.js';
import { Helpers } from './math_helpers.js';
import { withFusedMultiplyAdd } from './emit_contract.js';

export interface CompiledModule {
  readonly bytes: Uint8Array;
  /** Scratch bytes each kernel needs, by kernel index. */
  readonly scratch: readonly number[];
  readonly compileMs: number;
}

export interface CompileModuleOptions {
  /** binaryen optimize level (0-3); eager one-op kernels use a low level to compile fast. */
  readonly optimize: number;
  /** Import the memory as shared (threads). */
  readonly shared?: boolean;
  /** Use relaxed SIMD (fused multiply-add in contractions): only where the running engine has it. */
  readonly relaxed?: boolean;
}

const FEATURES = () => binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.NontrappingFPToInt
  | binaryen.Features.SignExt | binaryen.Features.BulkMemory | binaryen.Features.MutableGlobals;

/** Kernel i is exported as `k<i>`. */
export function compileKernels(kernels: readonly Kernel[], opts: CompileModuleOptions): CompiledModule {
  const t0 = performance.now();
  const m = new binaryen.Module();
  try {
    const relaxed = opts.relaxed === true;
    m.setFeatures(FEATURES() | (opts.shared ? binaryen.Features.Atomics : 0) | (relaxed ? binaryen.Features.RelaxedSIMD : 0));
    m.setMemory(1, 65536, null, [], opts.shared === true, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory', opts.shared === true);
    const scratch: number[] = [];
    const helpers = new Helpers(m);
    kernels.forEach((k, i) => {
      try {
        withFusedMultiplyAdd(relaxed, () => new KernelEmitter(m, k, helpers).emit(`k${i}`));
      } catch (e) {
        if (e instanceof KilnError) throw e;
        throw new KilnError(`internal: wasm: emitting kernel ${k.name} failed: ${(e as Error).message}\n${printKernel(k)}`);
      }
      m.addFunctionExport(`k${i}`, `k${i}`);
      scratch.push(KernelEmitter.scratchBytes(k));
    });
    if (!m.validate()) throw new KilnError(`internal: wasm: binaryen rejected the module of ${kernels.map((k) => k.name).join(', ')}`);
    binaryen.setOptimizeLevel(opts.optimize);
    binaryen.setShrinkLevel(0);
    if (opts.optimize > 0) m.optimize();
    const bytes = m.emitBinary();
    return { bytes, scratch, compileMs: performance.now() - t0 };
  } finally {
    m.dispose();
  }
}

/** The text form of a kernel's module (debugging and WAT snapshots). */
export function kernelWat(k: Kernel, optimize = 0): string {
  const m = new binaryen.Module();
  try {
    m.setFeatures(FEATURES());
    m.setMemory(1, 65536, null, [], false, false, 'mem');
    m.addMemoryImport('mem', 'env', 'memory', false);
    new KernelEmitter(m, k).emit('k0');
    m.addFunctionExport('k0', 'k0');
    binaryen.setOptimizeLevel(optimize);
    if (optimize > 0) m.optimize();
    return m.emitText();
  } finally {
    m.dispose();
  }
}
