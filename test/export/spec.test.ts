// Declarative networks and solvers: validation errors name the layer/field, DAGs (residual Add,
// Concat), spec round trips, Caffe's lr policies, and `solve` / `kiln train` on a small shard.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { KilnError } from '../../src/ir/error.js';
import { Module } from '../../src/frontend/nn/module.js';
import { SpecNet } from '../../src/frontend/nn/spec.js';
import type { NetSpec } from '../../src/frontend/nn/spec.js';
import * as L from '../../src/frontend/nn/layers.js';
import { checkSolverSpec, lrAt, solve } from '../../src/frontend/train/solver.js';
import { writeShard, ShardDataset } from '../../src/frontend/data/shard.js';
import { main } from '../../src/cli/main.js';
import { loadArtifact } from '../../src/runtime.js';
import { randTensor, rng } from './helpers.js';

const mlp: NetSpec = {
  name: 'Mlp',
  inputs: [{ name: 'x', shape: [4] }],
  layers: [
    { name: 'fc1', type: 'Linear', params: { inFeatures: 4, outFeatures: 8 } },
    { name: 'act', type: 'Tanh' },
    { name: 'fc2', type: 'Linear', params: { inFeatures: 8, outFeatures: 3 } },
  ],
};

function specError(spec: unknown): string {
  try {
    Module.fromSpec(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as Error).message;
  }
  throw new Error('expected a KilnError');
}

describe('declarative networks', () => {
  it('builds a chain; state dict keys are layer names; output matches the layers applied by hand', () => {
    const net = Module.fromSpec(mlp);
    expect(Object.keys(net.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    const x = randTensor([2, 4], 1);
    const self = net as unknown as Record<string, Module>;
    const want = self.fc2.call(self.act.call(self.fc1.call(x))) as { dataSync(): Float32Array };
    expect((net.call(x) as { dataSync(): Float32Array }).dataSync()).toEqual(want.dataSync());
  });

  it('a DAG: residual Add and Concat, several outputs', () => {
    const net = Module.fromSpec({
      inputs: [{ name: 'x', shape: [4] }],
      layers: [
        { name: 'a', type: 'Linear', params: { inFeatures: 4, outFeatures: 4 } },
        { name: 'res', type: 'Add', inputs: ['x', 'a'] },
        { name: 'cat', type: 'Concat', inputs: ['res', 'x'], params: { axis: 1 } },
      ],
      outputs: ['cat', 'res'],
    });
    const [cat, res] = net.call(randTensor([3, 4], 2)) as { shape: number[] }[];
    expect(cat.shape).toEqual([3, 8]);
    expect(res.shape).toEqual([3, 4]);
  });

  it('validation errors name the layer and the field', () => {
    const withLayer = (l: object) => ({ ...mlp, layers: [mlp.layers[0], l] });
    expect(specError(withLayer({ name: 'fc2', type: 'Linear', params: { inFeatures: 8 } }))).toMatch(/layer "fc2" \(Linear\): field outFeatures is required/);
    expect(specError(withLayer({ name: 'fc2', type: 'Linear', params: { inFeatures: 8, outFeatures: '3' } }))).toMatch(/layer "fc2" \(Linear\): field outFeatures must be a positive integer, got "3"/);
    expect(specError(withLayer({ name: 'fc2', type: 'Linear', params: { inFeatures: 8, outFeatures: 3, bais: true } }))).toMatch(/layer "fc2" \(Linear\): unknown field "bais"/);
    expect(specError(withLayer({ name: 'c', type: 'Conv3d' }))).toMatch(/layer "c": type "Conv3d" is not a layer type/);
    expect(specError(withLayer({ name: 'p', type: 'ReLU', inputs: ['later'] }))).toMatch(/layer "p" \(ReLU\): input "later" is not a network input or an earlier layer/);
    expect(specError(withLayer({ name: 'fc1', type: 'ReLU' }))).toMatch(/layer "fc1": the name is used twice/);
    expect(specError(withLayer({ name: 'sum', type: 'Add' }))).toMatch(/takes two or more inputs/);
    expect(specError(withLayer({ name: 'call', type: 'ReLU' }))).toMatch(/clashes with a Module property/);
    // Shapes are checked when the network is built, naming the layer.
    expect(specError(withLayer({ name: 'fc2', type: 'Linear', params: { inFeatures: 7, outFeatures: 3 } }))).toMatch(/layer "fc2" \(Linear\) on f32\[1,8\]/);
    expect(specError({ inputs: [], layers: [] })).toMatch(/inputs: must list at least one input/);
  });

  it('toSpec round trips (SpecNet and a Sequential of standard layers)', () => {
    const net = Module.fromSpec(mlp);
    const again = Module.fromSpec(JSON.parse(JSON.stringify(net.toSpec())));
    again.loadStateDict(net.stateDict());
    const x = randTensor([2, 4], 3);
    expect((again.call(x) as { dataSync(): Float32Array }).dataSync()).toEqual((net.call(x) as { dataSync(): Float32Array }).dataSync());
    const seq = new L.Sequential(new L.Conv2d(1, 2, 3, { padding: 1 }), new L.ReLU(), new L.MaxPool2d(2), new L.Flatten(), new L.Linear(8, 2));
    const spec = seq.toSpec({ inputShape: [1, 4, 4] });
    expect(spec.layers.map((l) => l.type)).toEqual(['Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear']);
    expect(spec.layers[0].params).toEqual({ inChannels: 1, outChannels: 2, kernelSize: [3, 3], padding: 1 });
    expect(Module.fromSpec(spec)).toBeInstanceOf(SpecNet);
  });
});

describe('solver', () => {
  it('validates with errors naming the field', () => {
    const ok = { optimizer: { type: 'SGD', lr: 0.1, momentum: 0.9 }, maxIter: 10, batchSize: 4 };
    expect(checkSolverSpec(ok)).toBe(ok);
    const err = (x: object) => {
      try {
        checkSolverSpec(x);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(err({ ...ok, maxIter: 0 })).toMatch(/field maxIter must be a positive integer/);
    expect(err({ ...ok, optimizer: { type: 'SGD', lr: 0.1, betas: [0.9, 0.99] } })).toMatch(/optimizer \(SGD\): unknown field "betas"/);
    expect(err({ ...ok, lrPolicy: { type: 'step', gamma: 0.1 } })).toMatch(/lrPolicy \(step\): field stepSize is required/);
    expect(err({ ...ok, optimizer: { type: 'Lion', lr: 1 } })).toMatch(/type must be one of SGD/);
  });

  it("computes Caffe's learning-rate policies", () => {
    expect(lrAt({ type: 'step', stepSize: 10, gamma: 0.5 }, 0.1, 25, 100)).toBeCloseTo(0.025);
    expect(lrAt({ type: 'multistep', steps: [5, 20], gamma: 0.1 }, 1, 20, 100)).toBeCloseTo(0.01);
    expect(lrAt({ type: 'inv', gamma: 1e-4, power: 0.75 }, 0.01, 1000, 5000)).toBeCloseTo(0.01 * Math.pow(1.1, -0.75));
    expect(lrAt({ type: 'poly', power: 1 }, 0.1, 50, 100)).toBeCloseTo(0.05);
    expect(lrAt({ type: 'cosine' }, 0.1, 100, 100)).toBeCloseTo(0);
  });

  it('solve and `kiln train` learn a separable problem from a shard, snapshot and export', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-train-'));
    // Two Gaussian-ish blobs in 4-d: class = sign of the first feature.
    const r = rng(9);
    const n = 96;
    const x = new Float32Array(n * 4);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let j = 0; j < 4; j++) x[i * 4 + j] = Math.fround((r() - 0.5) * 0.5 + (j === 0 ? (y[i] ? 1 : -1) : 0));
    }
    const shard = join(dir, 'blobs.kshard');
    writeShard(shard, n, [{ field: { name: 'x', dtype: 'float32', shape: [4] }, data: x }, { field: { name: 'label', dtype: 'int32', shape: [] }, data: y }]);
    const solver = { optimizer: { type: 'SGD', lr: 0.2, momentum: 0.5 }, maxIter: 40, batchSize: 16, snapshot: 20, snapshotPrefix: 'blobs', seed: 1 };
    const lines: string[] = [];
    const result = await solve(Module.fromSpec(mlp), solver as never, { train: new ShardDataset(shard), test: new ShardDataset(shard), stream: { write: (s) => lines.push(s) } });
    expect(result.test!.accuracy).toBeGreaterThan(0.9);

    writeFileSync(join(dir, 'net.json'), JSON.stringify(mlp));
    writeFileSync(join(dir, 'solver.json'), JSON.stringify(solver));
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    const code = await main(['train', join(dir, 'net.json'), '--solver', join(dir, 'solver.json'), '--data', shard, '--test', shard, '--snapshot-dir', dir, '--export', join(dir, 'mlp.kiln'), '--backends', 'none'], io);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/done: 40 iterations/);
    expect(existsSync(join(dir, 'blobs_iter_20.safetensors'))).toBe(true);
    expect(existsSync(join(dir, 'blobs_iter_40.safetensors'))).toBe(true);
    const art = await loadArtifact(join(dir, 'mlp.kiln'));
    expect(art.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['N', 4] }]);
    const [logits] = await art.run([{ data: x.subarray(0, 8), shape: [2, 4] }]);
    expect(logits.shape).toEqual([2, 3]);
    // Resuming from the snapshot continues at iteration 20.
    const resumed: string[] = [];
    expect(await main(['train', join(dir, 'net.json'), '--solver', join(dir, 'solver.json'), '--data', shard, '--resume', join(dir, 'blobs_iter_20.safetensors'), '--snapshot-dir', dir], { out: (t) => void resumed.push(t), err: (t) => void resumed.push(t) })).toBe(0);
    expect(resumed.join('\n')).toMatch(/resumed from .* at iteration 20[\s\S]*done: 40 iterations/);
  });
});
