// Finding a GPU: navigator.gpu in browsers, the optional `webgpu` package (Dawn) in Node, and the
// device request with the limits Kiln's kernels use. Shared by initWebGPU (the in-process device)
// and kiln/runtime (artifacts on WebGPU), so it imports nothing but the error class.
import { KilnError } from '../../ir/error.js';

/** The GPU interface of this JS environment: navigator.gpu, or the `webgpu` package in Node. */
export async function findGpu(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) return null;
  try {
    // A variable specifier keeps bundlers from resolving the optional Node-only package.
    const name = 'webgpu';
    const mod = (await import(/* @vite-ignore */ name)) as { create?: (args: string[]) => GPU; globals?: object };
    if (mod.globals) Object.assign(globalThis, mod.globals);
    return mod.create ? mod.create([]) : null;
  } catch {
    return null;
  }
}

export const NO_ADAPTER =
  "webgpu: no WebGPU adapter was found: this environment has no navigator.gpu (in Node, install the optional 'webgpu' package on a machine with a GPU, or run in a browser with WebGPU)";

/** Requests an adapter and a device with the adapter's own compute limits (not WebGPU's lower defaults). */
export async function requestGpuDevice(powerPreference?: 'low-power' | 'high-performance'): Promise<{ device: GPUDevice; adapterName: string; features: string[] }> {
  const gpu = await findGpu();
  if (!gpu) throw new KilnError(NO_ADAPTER);
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  if (!adapter) throw new KilnError('webgpu: no WebGPU adapter was found (navigator.gpu.requestAdapter() returned null)');
  const features = [...adapter.features];
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    // timestamp-query lets profiles time each dispatch on the GPU (profileKernelsAsync); optional.
    requiredFeatures: (['shader-f16', 'timestamp-query'] as GPUFeatureName[]).filter((f) => features.includes(f)),
    requiredLimits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    },
  });
  const adapterName = [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { device, adapterName, features };
}
