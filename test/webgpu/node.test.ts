// WebGPU in Node without a GPU: choosing 'webgpu' is a clear KilnError, never a crash (the optional
// `webgpu` package is not installed here; on a machine with a GPU it would be used).
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/ir/error.js';
import { getDevice } from '../../src/codegen/device.js';
import { initWebGPU } from '../../src/codegen/wgsl/init.js';
import { tensor } from '../../src/frontend/convert.js';
import { setDefaultDevice } from '../../src/frontend/trace.js';

describe('webgpu without a GPU', () => {
  it('using the device before initWebGPU says to call it', () => {
    expect(() => getDevice('webgpu')).toThrow(/call `await initWebGPU\(\)` first/);
    expect(() => tensor([1, 2], { device: 'webgpu' })).toThrow(KilnError);
    expect(() => setDefaultDevice('webgpu')).toThrow(KilnError);
  });
  it('initWebGPU rejects with "no WebGPU adapter was found"', async () => {
    await expect(initWebGPU()).rejects.toThrow(KilnError);
    await expect(initWebGPU()).rejects.toThrow(/no WebGPU adapter was found/);
  });
});
