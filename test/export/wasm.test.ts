// Artifacts carrying wasm: the runtime runs the file's module with the wasm backend's plan runner and
// gives the same bits as the in-process wasm device compiling the same IR; other batch sizes fall
// back to the interpreter; a fresh Node process with only the runtime bundle runs the wasm code.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import '../../src/index.js';
import '../../src/codegen/wasm/device.js';
import { getDevice } from '../../src/codegen/device.js';
import { createWasmDevice } from '../../src/codegen/wasm/device.js';
import { parseFunction } from '../../src/ir/parser.js';
import type { HostArray } from '../../src/ir/array.js';
import { KilnError } from '../../src/ir/error.js';
import * as nn from '../../src/frontend/nn/index.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { relu } from '../../src/frontend/ops/elementwise.js';
import { loadArtifact, loadArtifactSync, inspectArtifact } from '../../src/runtime.js';
import { TinyMlp, randTensor } from './helpers.js';

class SmallCnn extends nn.Module {
  conv = new nn.Conv2d(1, 3, 3, { padding: 1 });
  pool = new nn.MaxPool2d(2);
  flat = new nn.Flatten();
  fc = new nn.Linear(3 * 4 * 4, 5);
  forward(x: Tensor): Tensor {
    return this.fc.call(this.flat.call(this.pool.call(relu(this.conv.call(x) as Tensor)))) as Tensor;
  }
}

/** The same IR compiled in-process by the wasm device: the reference the runtime must match bit for bit. */
function onWasmDevice(ir: string, args: HostArray[]): Float32Array {
  const dev = getDevice('wasm');
  const exe = dev.compile(parseFunction(ir));
  const [out] = exe.run(args.map((a) => dev.upload(a)));
  return dev.readSync(out).data as Float32Array;
}

const host = (t: Tensor): HostArray => ({ dtype: t.dtype, shape: [...t.shape], data: t.dataSync() });

let mlpBytes: Uint8Array;
const mlp = new TinyMlp();

beforeAll(async () => {
  mlpBytes = await exportArtifact(mlp, [randTensor([2, 6], 1)], { batch: 'N' });
});

describe('artifacts with wasm code', () => {
  it('carries the module and plan, and runs them at the compiled batch size with the same bits as the wasm device', async () => {
    const info = inspectArtifact(mlpBytes);
    expect(info.backends).toEqual(['interpreter', 'wasm', 'webgpu']);
    expect(info.sections.map((s) => s.name)).toEqual(['ir', 'weights', 'wasm', 'wasm.plan', 'wgsl']);
    const art = await loadArtifact(mlpBytes);
    expect(art.wasmError).toBeUndefined();
    expect(art.backendFor(2)).toBe('wasm');
    expect(art.backendFor(5)).toBe('interpreter');
    const x = randTensor([2, 6], 7);
    const [y] = await art.run([x]);
    const weights = Object.values(mlp.stateDict()).map(host);
    expect(y.dataSync()).toEqual(onWasmDevice(art.ir, [host(x), ...weights]));
    // Against the interpreter: float32 kernels may round differently (fused, vectorized), but barely.
    const ref = mlp.call(x).dataSync();
    y.dataSync().forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-6));
    // Another batch size runs the re-specialized IR on the interpreter.
    const x5 = randTensor([5, 6], 8);
    expect((await art.run([x5]))[0].dataSync()).toEqual(mlp.call(x5).dataSync());
  });

  it('dispose frees the program; running afterwards is a KilnError', async () => {
    const art = await loadArtifact(mlpBytes);
    const x = randTensor([2, 6], 7);
    const [y] = await art.run([x]);
    expect(y.shape).toEqual([2, 3]);
    art.dispose();
    art.dispose(); // twice is fine
    await expect(art.run([x])).rejects.toThrow(/artifact TinyMlp: used after dispose\(\)/);
    // Its outputs are host copies: still readable.
    expect(y.dataSync().length).toBe(6);
  });

  it('backend options: interpreter only, or wasm required', async () => {
    const interp = await loadArtifact(mlpBytes, { backend: 'interpreter' });
    expect(interp.backendFor(2)).toBe('interpreter');
    const plain = await exportArtifact(mlp, [randTensor([2, 6], 1)], { backends: [] });
    await expect(loadArtifact(plain, { backend: 'wasm' })).rejects.toThrow(KilnError);
    await expect(loadArtifact(plain, { backend: 'wasm' })).rejects.toThrow(/carries no wasm code/);
  });

  it('a conv net: identical to the wasm device, close to the interpreter', async () => {
    const model = new SmallCnn().eval();
    const x = randTensor([2, 1, 8, 8], 3);
    const art = loadArtifactSync(await exportArtifact(model, [x]));
    expect(art.backendFor()).toBe('wasm');
    const [y] = await art.run([x]);
    const weights = Object.values(model.stateDict()).map(host);
    expect(y.dataSync()).toEqual(onWasmDevice(art.ir, [host(x), ...weights]));
    const ref = model.call(x).dataSync();
    y.dataSync().forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-5));
  });

  it('the demo-style conv block (8 channels, 28x28, batchnorm, relu, pool) agrees with the model', async () => {
    // Regression: artifacts were compiled with binaryen -O2, which broke the conv packing kernels
    // (the 3-channel SmallCnn above happened to take another packing path and stayed correct).
    const model = new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2)).eval();
    const x = randTensor([2, 1, 28, 28], 7);
    const art = loadArtifactSync(await exportArtifact(model, [x]));
    expect(art.backendFor()).toBe('wasm');
    const [y] = await art.run([x]);
    const ref = model.call(x).dataSync();
    let worst = 0;
    y.dataSync().forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]))));
    expect(worst).toBeLessThan(1e-4); // it was ~10 with the optimizer on
  });

  it('binaryen -O2 keeps the conv kernels exact (the emitter builds trees, not shared nodes)', async () => {
    // Regression for af099a5: two expression nodes with two parents validated and ran correctly
    // unoptimized, but binaryen's optimizer rewrote them in place (conv logits off by ~10, or a trap).
    const model = new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU()).eval();
    const x = randTensor([2, 1, 28, 28], 8);
    const art = loadArtifactSync(await exportArtifact(model, [x], { backends: [] }));
    const args = [host(x), ...Object.values(model.stateDict()).map(host)];
    const run = (optimize: number) => {
      const dev = createWasmDevice({ optimize, threads: 1 });
      const [out] = dev.compile(parseFunction(art.ir)).run(args.map((a) => dev.upload(a)));
      return dev.readSync(out).data as Float32Array;
    };
    expect(run(2)).toEqual(run(0));
  });

  it('a fresh Node process with only the runtime bundle runs the wasm code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rtw-'));
    writeFileSync(join(dir, 'mlp.kiln'), mlpBytes);
    const x = randTensor([2, 6], 9);
    const expected = Array.from((await loadArtifactSync(mlpBytes).run([x]))[0].dataSync());
    await build({ entryPoints: [resolve(__dirname, '../../src/runtime.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'runtime.mjs'), logLevel: 'silent' });
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { loadArtifact } from './runtime.mjs';
const art = await loadArtifact(process.argv[2]);
const [y] = await art.run([{ data: Float32Array.from(JSON.parse(process.argv[3])), shape: [2, 6] }]);
console.log(JSON.stringify({ backend: art.backendFor(2), data: Array.from(await y.data()) }));`,
    );
    const got = JSON.parse(execFileSync(process.execPath, [join(dir, 'main.mjs'), join(dir, 'mlp.kiln'), JSON.stringify(Array.from(x.dataSync()))], { encoding: 'utf8' })) as { backend: string; data: number[] };
    expect(got.backend).toBe('wasm');
    expect(got.data).toEqual(expected);
  });
});
