// The Trainer: eager and jitted training give the same loss curve (float32 tolerance), the loss goes
// down, evaluate/predict work, callbacks see each epoch, and the progress bar renders.
import { describe, expect, it } from 'vitest';
import { Tensor, nn, optim, data, Trainer, crossEntropy, manualSeed, earlyStopping, ProgressBar, randn, randomKey, randint } from '../../src/index.js';

class SmallCNN extends nn.Module {
  conv = new nn.Conv2d(1, 4, 3, { padding: 1 });
  bn = new nn.BatchNorm2d(4);
  pool = new nn.MaxPool2d(2);
  fc = new nn.Linear(4 * 4 * 4, 3);
  forward(x: Tensor): Tensor {
    const h = this.pool.call(this.bn.call(this.conv.call(x)).relu()) as Tensor;
    return this.fc.call(h.reshape([h.shape[0], -1]));
  }
}

function dataset(n: number): data.TensorDataset {
  const x = randn([n, 1, 8, 8], { key: randomKey(11) });
  const y = randint(0, 3, [n], { key: randomKey(12) });
  return new data.TensorDataset(x, y);
}

function run(jit: boolean): { losses: number[]; trainer: Trainer } {
  manualSeed(5);
  const model = new SmallCNN();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const trainer = new Trainer(model, { optimizer: opt, loss: (o, y) => crossEntropy(o, y), jit });
  const loader = new data.DataLoader(dataset(48), { batchSize: 16, shuffle: true, seed: 3 });
  const losses: number[] = [];
  for (let epoch = 0; epoch < 3; epoch++) for (const [x, y] of loader) losses.push(trainer.trainStep(x, y).loss);
  return { losses, trainer };
}

describe('Trainer', () => {
  it('eager and jitted steps give the same loss curve, and the loss goes down', () => {
    const eager = run(false).losses;
    const jitted = run(true).losses;
    expect(jitted.length).toBe(9);
    jitted.forEach((l, i) => expect(Math.abs(l - eager[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(eager[i]))));
    expect(jitted[jitted.length - 1]).toBeLessThan(jitted[0]);
  });

  it('fit records history, evaluate and predict run in eval mode, early stopping stops', async () => {
    manualSeed(1);
    const model = new SmallCNN();
    const trainer = new Trainer(model, { optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), loss: (o, y) => crossEntropy(o, y) });
    const loader = new data.DataLoader(dataset(32), { batchSize: 16 });
    const out: string[] = [];
    const history = await trainer.fit(loader, { epochs: 3, validation: loader, callbacks: [earlyStopping({ monitor: 'loss', patience: 1, minDelta: 100 })], stream: { write: (s: string) => out.push(s) } });
    expect(history.epochs.length).toBe(2); // no epoch improves by 100, so the second one stops training
    expect(history.epochs[0].valAccuracy).toBeGreaterThanOrEqual(0);
    expect(out.join('')).toContain('epoch 1:');
    const ev = await trainer.evaluate(loader);
    expect(ev.count).toBe(32);
    expect(trainer.predict(randn([2, 1, 8, 8], { key: randomKey(2) })).shape).toEqual([2, 3]);
    expect(model.training).toBe(true);
  });

  it('the progress bar shows counts, metrics and throughput', () => {
    const lines: string[] = [];
    const bar = new ProgressBar({ total: 4, label: 'epoch 1/1', unitsPerStep: 32, printEvery: 2, stream: { write: (s: string) => lines.push(s) } });
    for (let i = 1; i <= 4; i++) bar.update(i, { loss: 0.5 / i });
    expect(lines.length).toBe(2);
    expect(lines[1]).toMatch(/^epoch 1\/1 █+ 4\/4 {2}loss 0\.1250 {2}\d+ samples\/s/);
  });
});
