// Kiln's public API: everything a user imports from 'kiln' is re-exported here.
import './codegen/cpu_ref.js';
import './frontend/methods.js';

export { Tensor } from './frontend/tensor.js';
export type { NestedArray } from './frontend/tensor.js';
export { KilnError } from './ir/error.js';
export type { DType } from './ir/dtype.js';
export { tensor } from './frontend/convert.js';
export type { TensorLike, TensorOptions } from './frontend/convert.js';
export { setDefaultDevice, defaultDevice } from './frontend/trace.js';
export * from './frontend/creation.js';
export * from './frontend/random.js';
export * from './frontend/ops/elementwise.js';
export * from './frontend/ops/reduce.js';
export * from './frontend/ops/shape.js';
export * from './frontend/ops/indexing.js';
export { formatTensor } from './frontend/format.js';
export * as nn from './frontend/nn/index.js';
export * as optim from './frontend/optim/index.js';
export * as data from './frontend/data/index.js';
export { Trainer, ProgressBar, earlyStopping, checkpoint, jsonlLogger } from './frontend/train/index.js';
export type { TrainerOptions, FitOptions, History, EpochLogs, Callback } from './frontend/train/index.js';

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
