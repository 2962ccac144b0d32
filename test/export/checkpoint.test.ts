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
import { CosineAnnealingLR, StepLR } from '../../src/frontend/optim/schedulers.js';
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

  it('resume Adam + cosine annealing exactly: the scheduler position travels with the checkpoint', async () => {
    const run = (opt: Adam, sched: CosineAnnealingLR, net: Net, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        fakeStep(net, opt, k);
        sched.step();
      }
    };
    const a = new Net();
    const optA = new Adam(a.parameters(), { lr: 0.05 });
    const schedA = new CosineAnnealingLR(optA, 8, 0.001);
    run(optA, schedA, a, 0, 3);
    const bytes = await checkpointToBytes(a, { optimizer: optA, scheduler: schedA });
    run(optA, schedA, a, 3, 7);

    const b = new Net();
    const optB = new Adam(b.parameters(), { lr: 0.05 });
    const schedB = new CosineAnnealingLR(optB, 8, 0.001);
    checkpointFromBytes(b, bytes, { optimizer: optB, scheduler: schedB });
    expect(schedB.t).toBe(3);
    run(optB, schedB, b, 3, 7);
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(optB.lr).toBe(optA.lr);

    // Without the scheduler's position the schedule restarts (so the check above is not vacuous).
    const c = new Net();
    const optC = new Adam(c.parameters(), { lr: 0.05 });
    const schedC = new CosineAnnealingLR(optC, 8, 0.001);
    checkpointFromBytes(c, bytes, { optimizer: optC });
    run(optC, schedC, c, 3, 7);
    expect(snapshot(c)).not.toEqual(snapshot(a));

    // A different schedule, another class, or a checkpoint without scheduler state: KilnErrors.
    const d = new Net();
    const optD = new Adam(d.parameters(), { lr: 0.05 });
    expect(() => checkpointFromBytes(d, bytes, { optimizer: optD, scheduler: new CosineAnnealingLR(optD, 20, 0.001) })).toThrow(/CosineAnnealingLR.loadStateDict: at step 3 the saved schedule gave lr .* \(different hyperparameters\?\)/);
    expect(() => checkpointFromBytes(d, bytes, { optimizer: optD, scheduler: new StepLR(optD, 2) })).toThrow(/StepLR.loadStateDict: the state is from CosineAnnealingLR/);
    const optE = new Adam(d.parameters(), { lr: 0.1 });
    expect(() => checkpointFromBytes(d, bytes, { scheduler: new CosineAnnealingLR(optE, 8, 0.001) })).toThrow(/initial lr of 0.05 but the optimizer's is 0.1/);
    const noSched = await checkpointToBytes(a, { optimizer: optA });
    expect(() => checkpointFromBytes(d, noSched, { scheduler: new CosineAnnealingLR(optD, 8) })).toThrow(/no scheduler state/);
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
