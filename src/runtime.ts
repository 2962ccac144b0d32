/// <reference types="@webgpu/types" preserve="true" />
// kiln/runtime: loads and runs exported artifacts with the reference interpreter, or compiled code the
// file carries (wasm where it loads; WGSL on WebGPU when asked with {backend: 'webgpu'}). It imports
// src/ir, src/format and the backends' run-only halves (wasm heap + plan runner, webgpu buffer pool +
// plan executor): no tracer, no passes, no binaryen, no frontend (test/export/runtime_graph.test.ts).
export { loadArtifact, loadArtifactSync } from './runtime/load.js';
export type { ArtifactSource } from './runtime/load.js';
export { Artifact } from './runtime/artifact.js';
export type { LoadOptions, RuntimeBackend } from './runtime/artifact.js';
export { RuntimeTensor } from './runtime/tensor.js';
export type { ArtifactInput, TensorLikeInput } from './runtime/inputs.js';
export type { Manifest, TensorSpec, Backend } from './format/manifest.js';
export { inspectArtifact, formatArtifactInfo } from './runtime/inspect.js';
export type { ArtifactInfo } from './runtime/inspect.js';
export { parseNpy, serializeNpy } from './format/npy.js';
export { parseSafetensors, serializeSafetensors } from './format/safetensors.js';
export { KilnError } from './ir/error.js';
export { KILN_VERSION, ARTIFACT_FORMAT_VERSION } from './format/version.js';
