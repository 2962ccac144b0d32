// Kiln's public API: everything a user imports from 'kiln' is re-exported here.
import './codegen/cpu_ref.js';

export * from './frontend/ops/linalg.js';
export * from './frontend/ops/nn_functional.js';
export * from './frontend/ops/conv.js';
export * from './frontend/ops/losses.js';
export { jit } from './frontend/jit/jit.js';
export type { JitOptions, JitStats, Jitted } from './frontend/jit/jit.js';
export { makeIR } from './frontend/tracing.js';
export { cond, whileLoop, forLoop, scan } from './frontend/control.js';
export type { ScanOptions } from './frontend/control.js';
export { exportArtifact } from './frontend/export/export.js';
export type { ExportOptions, InputSpec } from './frontend/export/export.js';
export { save, load, stateDictToBytes, stateDictFromBytes, parseSafetensors, serializeSafetensors } from './frontend/io/safetensors.js';
export { saveNpy, loadNpy, tensorToNpy, tensorFromNpy, parseNpy, serializeNpy } from './frontend/io/npy.js';
export * from './frontend/autograd/index.js';
