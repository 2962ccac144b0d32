// exportArtifact -> loadArtifact: the runtime reproduces the in-process results exactly (same
// interpreter semantics), for fixed and symbolic batch sizes, every input form, and named signatures.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/ir/error.js';
import { tensor } from '../../src/frontend/convert.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { jit } from '../../src/frontend/jit/jit.js';
import { binary, unary } from '../../src/frontend/ops/elementwise.js';
import { matmul } from '../../src/frontend/ops/linalg.js';
import { scan } from '../../src/frontend/control.js';
import { meanAxes } from '../../src/frontend/ops/nn_internal.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { loadArtifact, inspectArtifact, formatArtifactInfo } from '../../src/runtime.js';
import { TinyMlp, randTensor, values } from './helpers.js';

// The interpreter path is the subject here; wasm sections have their own tests (binaryen loads slowly).
const NO_WASM = { backends: [] as [] };

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect((err as Error).message).toMatch(message);
}

describe('exportArtifact + loadArtifact', () => {
  const model = new TinyMlp();

  it('a module with a fixed batch: signature, named weights, identical outputs', async () => {
    const x = randTensor([4, 6], 1);
    const bytes = await exportArtifact(model, [x], NO_WASM);
    const art = await loadArtifact(bytes);
    expect(art.name).toBe('TinyMlp');
    expect(art.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [4, 6] }]);
    expect(art.outputs).toEqual([{ name: 'output', dtype: 'float32', shape: [4, 3] }]);
    expect(art.manifest.weights.map((w) => w.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    const [y] = await art.run([x]);
    expect(y.shape).toEqual([4, 3]);
    expect(await y.data()).toEqual(model.call(x).dataSync());
    await rejects(art.run([randTensor([5, 6], 2)]), /input "x".*\[5,6\] does not match the expected \[4,6\]/);
  });

  it('a symbolic batch: one artifact for every batch size, checked by re-parsing', async () => {
    const bytes = await exportArtifact(jit((x: Tensor) => model.call(x)), [randTensor([3, 6], 1)], { batch: 'N', names: model.stateDict(), backends: [] });
    const art = await loadArtifact(bytes);
    expect(art.inputs[0].shape).toEqual(['N', 6]);
    expect(art.outputs[0].shape).toEqual(['N', 3]);
    expect(art.manifest.batch?.example).toBe(3);
    for (const n of [1, 2, 3, 7]) {
      const x = randTensor([n, 6], 20 + n);
      const [y] = await art.run([x]);
      expect(y.shape).toEqual([n, 3]);
      expect(await y.data()).toEqual(model.call(x).dataSync());
    }
    const [empty] = await art.run([{ data: new Float32Array(0), shape: [0, 6] }]);
    expect(empty.shape).toEqual([0, 3]);
  });

  it('accepts tensors, {data, shape}, flat typed arrays, nested arrays, and inputs by name', async () => {
    const art = await loadArtifact(await exportArtifact(model, [{ shape: ['B', 6], name: 'pixels' }], { exampleBatch: 4, backends: [] }));
    expect(art.inputs).toEqual([{ name: 'pixels', dtype: 'float32', shape: ['B', 6] }]);
    expect(art.manifest.batch?.example).toBe(4);
    const x = randTensor([2, 6], 5);
    const want = model.call(x).dataSync();
    const flat = Float32Array.from(x.dataSync());
    const forms: unknown[] = [x, { data: flat, shape: [2, 6] }, flat, Array.from(flat), x.tolist()];
    for (const form of forms) {
      const [y] = await art.run([form as Float32Array]);
      expect(y.dataSync()).toEqual(want);
    }
    const [byName] = await art.run({ pixels: flat });
    expect(byName.dataSync()).toEqual(want);
    await rejects(art.run([new Float32Array(7)]), /7 values do not fill shape \[B,6\]/);
    await rejects(art.run([[[1, 2], [3]]]), /ragged/);
    await rejects(art.run({ image: flat }), /input "pixels" is missing/);
    await rejects(art.run([]), /expects 1 input/);
  });

  it('several inputs and outputs: pytree names, int32 and bool inputs, inputs agreeing on the batch', async () => {
    const w = randTensor([3], 7);
    function simple(inputs: { x: Tensor; k: Tensor }, mask: Tensor) {
      const y = binary('mul', inputs.x, w);
      return { y, both: [binary('add', inputs.k, inputs.k), binary('and', mask, mask)] };
    }
    const ex = [{ x: randTensor([2, 3], 8), k: tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' }) }, tensor([[true, false, true], [false, false, true]])];
    const art = await loadArtifact(await exportArtifact(simple, ex, { batch: 'N', backends: [] }));
    expect(art.inputs.map((s) => s.name)).toEqual(['inputs.x', 'inputs.k', 'mask']);
    expect(art.outputs.map((s) => `${s.name}:${s.dtype}`)).toEqual(['output.y:float32', 'output.both.0:int32', 'output.both.1:bool']);
    const [y, k2, m2] = await art.run([randTensor([3, 3], 9), [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[true, false, true], [false, false, true], [true, true, true]]]);
    expect(y.shape).toEqual([3, 3]);
    expect(k2.tolist()).toEqual([[2, 4, 6], [8, 10, 12], [14, 16, 18]]);
    expect((m2.tolist() as boolean[][])[2]).toEqual([true, true, true]);
    await rejects(art.run([randTensor([1, 3], 9), [[1.5, 2, 3]], [[true, false, true]]]), /not an int32/);
    await rejects(art.run([randTensor([3, 3], 9), [[1, 2, 3]], [[true, false, true]]]), /disagree on the batch size/);
  });

  it('control flow (scan) survives the round trip', async () => {
    const w = randTensor([4, 4], 30);
    const rnn = (xs: Tensor, h0: Tensor) => scan((h: Tensor, x: Tensor) => {
      const h2 = unary('tanh', binary('add', matmul(h, w), x));
      return [h2, h2];
    }, h0, xs);
    const xs = randTensor([5, 4], 31);
    const h0 = randTensor([4], 32);
    const art = await loadArtifact(await exportArtifact(rnn, [xs, h0], NO_WASM));
    const outs = await art.run([xs, h0]);
    const [h, ys] = rnn(xs, h0);
    expect(outs[0].dataSync()).toEqual(h.dataSync());
    expect(outs[1].dataSync()).toEqual(ys.dataSync());
  });

  it('a mean over the batch is linear in N (exported); a constant 1/N is not (rejected)', async () => {
    const mean = (x: Tensor) => meanAxes('mean', x, 0);
    const art = await loadArtifact(await exportArtifact(mean, [randTensor([4, 3], 1)], { batch: 'N', backends: [] }));
    expect(art.outputs[0].shape).toEqual([3]);
    const x = randTensor([6, 3], 2);
    expect((await art.run([x]))[0].dataSync()).toEqual(mean(x).dataSync());
    const scaled = (x: Tensor) => binary('mul', x, 1 / x.shape[0]);
    await rejects(exportArtifact(scaled, [randTensor([4, 3], 1)], { batch: 'N', backends: [] }), /depends on the batch size but not as a\*N\+b/);
    // Without a symbolic batch it exports fine.
    expect((await loadArtifact(await exportArtifact(scaled, [randTensor([4, 3], 1)], NO_WASM))).outputs[0].shape).toEqual([4, 3]);
  });

  it('writes a file, loads it from the path, and inspects sections and kernels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
    const path = join(dir, 'mlp.kiln');
    const bytes = await exportArtifact(model, [randTensor([2, 6], 1)], path, { batch: 'N', backends: [] });
    const art = await loadArtifact(path);
    expect(art.ir).toContain('func @TinyMlp(');
    const info = inspectArtifact(bytes);
    expect(info.sections.map((s) => s.name)).toEqual(['ir', 'weights']);
    expect(info.weights).toEqual({ count: 3, elements: 30 + 5 + 15, bytes: 200 });
    expect(info.kernels.interpreter).toBeGreaterThan(0);
    expect(formatArtifactInfo(info)).toMatch(/inputs: {2}x: f32\[N,6\][\s\S]*weights: 3 tensors[\s\S]*sections:\n {4}ir/);
    await rejects(loadArtifact(join(dir, 'missing.kiln')), /cannot read/);
  });

  it('is deterministic: the same model exports the same bytes', async () => {
    const x = randTensor([2, 6], 1);
    const a = await exportArtifact(model, [x], { batch: 'N', backends: [] });
    const b = await exportArtifact(model, [x], { batch: 'N', backends: [] });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(values(1, 1)[0]).not.toBe(0);
  });
});
