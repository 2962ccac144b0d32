// WebGPU device acquisition. Getting a GPUDevice is asynchronous while the Device registry is
// synchronous, so 'webgpu' is registered as a stub that explains itself until `await initWebGPU()`
// has found an adapter; the runtime code is imported only then (lazy, like binaryen for wasm).
// Browsers use navigator.gpu; Node uses the optional `webgpu` package (Dawn) when it is installed.
import { KilnError } from '../../ir/error.js';
import { registerDevice } from '../device.js';
import type { WebGPUDevice } from './device.js';
import { requestGpuDevice } from './adapter.js';

export interface WebGPUOptions {
  powerPreference?: 'low-power' | 'high-performance';
  /** Use this GPUDevice instead of requesting one (tests, or an app that owns its device). */
  device?: GPUDevice;
  /** Lower the limits the emitter works with (tests of kernel splitting); never above the device's. */
  limits?: { maxStorageBuffers?: number; maxThreads?: number; maxWorkgroupsPerDim?: number };
}

export interface WebGPUInfo {
  readonly adapter: string;
  readonly features: readonly string[];
  /** Whether the adapter offers 'shader-f16' (f16 storage and arithmetic in WGSL). */
  readonly shaderF16: boolean;
  /** Whether the device has 'timestamp-query': profileKernelsAsync then reports GPU time per kernel. */
  readonly timestampQuery: boolean;
}

const NOT_READY =
  "webgpu: the device is not initialized: call `await initWebGPU()` first (acquiring a GPU is asynchronous); then t.to('webgpu'), tensor(x, {device: 'webgpu'}) and setDefaultDevice('webgpu') work";

registerDevice('webgpu', () => {
  throw new KilnError(NOT_READY);
});

let current: { device: WebGPUDevice; info: WebGPUInfo } | null = null;

/**
 * Finds a WebGPU adapter, creates the device and registers it as 'webgpu'. Throws a KilnError when
 * none is found (Node without a GPU or without the `webgpu` package, a browser without WebGPU).
 */
export async function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUInfo> {
  if (options === null || typeof options !== 'object') throw new KilnError(`initWebGPU: expected an options object, got ${String(options)}`);
  const pp = options.powerPreference;
  if (pp !== undefined && pp !== 'low-power' && pp !== 'high-performance') throw new KilnError(`initWebGPU: powerPreference must be 'low-power' or 'high-performance', got '${String(pp)}'`);
  if (current && !current.device.runtime.lost && !options.device && !options.limits) return current.info;
  let device = options.device;
  let adapterName = 'provided device';
  let features: string[] = [];
  if (!device) {
    ({ device, adapterName, features } = await requestGpuDevice(options.powerPreference));
  } else {
    features = [...device.features];
  }
  const [{ GpuRuntime }, { createWebGPUDevice }] = await Promise.all([import('./runtime.js'), import('./device.js')]);
  const dl = device.limits;
  const cap = (own: number, asked?: number) => (asked === undefined ? own : Math.min(own, asked));
  const rt = new GpuRuntime(device, {
    maxStorageBuffers: cap(dl.maxStorageBuffersPerShaderStage, options.limits?.maxStorageBuffers),
    maxThreads: cap(Math.min(dl.maxComputeInvocationsPerWorkgroup, dl.maxComputeWorkgroupSizeX), options.limits?.maxThreads),
    maxWorkgroupsPerDim: cap(dl.maxComputeWorkgroupsPerDimension, options.limits?.maxWorkgroupsPerDim),
    maxWorkgroupStorage: dl.maxComputeWorkgroupStorageSize,
    maxBindingSize: Math.min(dl.maxStorageBufferBindingSize, dl.maxBufferSize),
  });
  const gpuDevice = createWebGPUDevice(rt);
  const info: WebGPUInfo = { adapter: adapterName, features, shaderF16: features.includes('shader-f16'), timestampQuery: rt.timestampQuery };
  current = { device: gpuDevice, info };
  registerDevice('webgpu', () => gpuDevice);
  return info;
}

/** The initialized webgpu device (its runtime exposes submit/dispatch counters), or null. */
export function webgpuDevice(): WebGPUDevice | null {
  return current?.device ?? null;
}

/**
 * f16 needs both the adapter's 'shader-f16' and an f16 dtype in Kiln's IR, which it does not have
 * yet: asking for it gives a clear error either way.
 */
export function requireF16(): never {
  if (!current?.info.shaderF16) throw new KilnError("webgpu: float16 needs the adapter feature 'shader-f16', which this adapter does not offer");
  throw new KilnError('webgpu: float16 tensors are not supported yet (Kiln has no float16 dtype); use float32');
}
