// Checkpoints resume training exactly: N steps, save, M more steps == N steps, load into fresh
// objects, M steps. Gradients are set by hand (seeded), so only the optimizer's state matters.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/codegen/cpu_ref.js';
import { KilnError } from '../../src/ir/error.js';
import { tensor } from '../../src/frontend/convert.js';
import type { Tensor } from '../../src/frontend/tensor.js';
import { Module, parameter } from '../../src/frontend/nn/module.js';
import { Adam, SGD } from '../../src/frontend/optim/optimizer.js';
import { checkpointFromBytes, checkpointToBytes } from '../../src/frontend/io/checkpoint.js';
import { values } from './helpers.js';

class Net extends Module {
  w = parameter(tensor([[0.5, -0.25], [0.125, 1]]));
  b = parameter(tensor([0.1, -0.2]));
  forward(x: Tensor): Tensor {
    return x;
  }
}

function fakeStep(net: Net, opt: { step(): void }, k: number): void {
  net.w.grad = tensor([values(2, 100 + k), values(2, 200 + k)]);
  net.b.grad = tensor(values(2, 300 + k));
  opt.step();
}

const snapshot = (net: Net) => [...net.w.dataSync(), ...net.b.dataSync()];

describe('checkpoints', () => {
  it('resume Adam exactly (weights, moments, step count, learning rate), through a file', async () => {
    const a = new Net();
    const optA = new Adam(a.parameters(), { lr: 0.05 });
    for (let k = 0; k < 3; k++) fakeStep(a, optA, k);
    optA.lr = 0.02; // as a scheduler would
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ckpt-'));
    await a.saveCheckpoint(join(dir, 'ck.safetensors'), { optimizer: optA, extra: { epoch: 3 } });
    for (let k = 3; k < 6; k++) fakeStep(a, optA, k);

    const b = new Net();
    const optB = new Adam(b.parameters(), { lr: 0.05 });
    const info = await b.loadCheckpoint(join(dir, 'ck.safetensors'), { optimizer: optB });
    expect(info.step).toBe(3);
    expect(info.extra).toEqual({ epoch: 3 });
    expect(optB.lr).toBe(0.02);
    for (let k = 3; k < 6; k++) fakeStep(b, optB, k);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('without the optimizer state, training does not resume the same (the test above is not vacuous)', async () => {
    const a = new Net();
    const optA = new Adam(a.parameters(), { lr: 0.05 });
    for (let k = 0; k < 3; k++) fakeStep(a, optA, k);
    const bytes = await checkpointToBytes(a, { optimizer: optA });
    for (let k = 3; k < 5; k++) fakeStep(a, optA, k);
    const b = new Net();
    const optB = new Adam(b.parameters(), { lr: 0.05 });
    checkpointFromBytes(b, bytes);
    for (let k = 3; k < 5; k++) fakeStep(b, optB, k);
    expect(snapshot(b)).not.toEqual(snapshot(a));
  });

  it('rejects mismatches with a KilnError', async () => {
    const a = new Net();
    const sgd = new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    fakeStep(a, sgd, 0);
    const bytes = await checkpointToBytes(a, { optimizer: sgd });
    const b = new Net();
    expect(() => checkpointFromBytes(b, bytes, { optimizer: new Adam(b.parameters()) })).toThrow(KilnError);
    expect(() => checkpointFromBytes(b, bytes, { optimizer: new Adam(b.parameters()) })).toThrow(/from SGD/);
    const plain = await checkpointToBytes(a);
    expect(() => checkpointFromBytes(b, plain, { optimizer: new SGD(b.parameters(), { lr: 0.1, momentum: 0.9 }) })).toThrow(/no optimizer state/);
    class Other extends Module {
      v = parameter(tensor([1, 2, 3]));
      forward(x: Tensor) {
        return x;
      }
    }
    expect(() => checkpointFromBytes(new Other(), bytes)).toThrow(/missing keys v/);
  });
});
