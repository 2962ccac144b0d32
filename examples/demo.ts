// The main job: train a small CNN on Fashion-MNIST with the whole training step compiled by jit,
// print per-epoch loss/accuracy with a progress bar, the test accuracy, the speed of the jitted
// step against the same step run eagerly, and save the trained weights; the per-epoch scalars go to a
// JSONL log that `npm run kiln -- report out/fashion-cnn.jsonl` turns into loss/accuracy/lr curves;
// then export the model as an artifact and check it in a fresh process that imports only kiln/runtime.
//   npm run demo -- [--epochs 3] [--batch 128] [--width 8] [--hidden 64] [--lr 0.003] [--device wasm] [--data path]
//                   [--train-limit N] [--test-limit N] [--out model.safetensors] [--log run.jsonl] [--artifact model.kiln]
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FashionCNN } from './fashion_cnn.js';
import { Tensor, optim, data, Trainer, crossEntropy, setDefaultDevice, defaultDevice, manualSeed, save, deviceNames, jsonlLogger, jit, exportArtifact, saveNpy, tensor } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.003' },
    device: { type: 'string' },
    data: { type: 'string' },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    'eager-steps': { type: 'string', default: '5' },
    out: { type: 'string', default: 'out/fashion-cnn.safetensors' },
    log: { type: 'string', default: 'out/fashion-cnn.jsonl' },
    artifact: { type: 'string', default: 'out/fashion-cnn.kiln' },
    width: { type: 'string', default: '8' },
    hidden: { type: 'string', default: '64' },
  },
});

if (args.device) setDefaultDevice(args.device);
else if (deviceNames().includes('wasm')) setDefaultDevice('wasm');
manualSeed(0);

function toDataset(images: data.IdxArray, labels: data.IdxArray, limit?: number): data.TensorDataset {
  const n = Math.min(images.shape[0], limit ?? Infinity);
  const pixels = new Float32Array(n * 28 * 28);
  // Scale to [0, 1] then standardize with Fashion-MNIST's mean and std.
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] / 255 - 0.286) / 0.353;
  return new data.TensorDataset(
    { dtype: 'float32', shape: [n, 1, 28, 28], data: pixels },
    { dtype: 'int32', shape: [n], data: Int32Array.from(labels.data.subarray(0, n)) },
  );
}

const t0 = performance.now();
const fm = data.loadFashionMnist(args.data);
const train = toDataset(fm.trainImages, fm.trainLabels, args['train-limit'] ? Number(args['train-limit']) : undefined);
const test = toDataset(fm.testImages, fm.testLabels, args['test-limit'] ? Number(args['test-limit']) : undefined);
const batchSize = Number(args.batch);
console.log(`Fashion-MNIST from ${fm.root}: ${train.length} train / ${test.length} test images; device ${defaultDevice()}; batch ${batchSize}`);

const model = new FashionCNN(Number(args.width), Number(args.hidden));
const opt = new optim.Adam(model.parameters(), { lr: Number(args.lr) });
const lossFn = (out: Tensor, y: Tensor) => crossEntropy(out, y);
const epochs = Number(args.epochs);
const trainLoader = new data.DataLoader(train, { batchSize, shuffle: true, seed: 1, dropLast: true });
const testLoader = new data.DataLoader(test, { batchSize: 500 });
const trainer = new Trainer(model, { optimizer: opt, loss: lossFn, jit: true, scheduler: new optim.CosineAnnealingLR(opt, epochs * trainLoader.length), schedulePer: 'batch' });

mkdirSync(dirname(args.log!), { recursive: true });
await trainer.fit(trainLoader, { epochs, validation: testLoader, callbacks: [jsonlLogger(args.log!)] });
console.log(`training log: ${args.log} (npm run kiln -- report ${args.log})`);
const final = await trainer.evaluate(testLoader);
console.log(`test accuracy ${(100 * final.accuracy).toFixed(2)}% (${final.count} images, loss ${final.loss.toFixed(4)})`);

// Speed: the same training step, jitted vs eager, on one batch (after the jitted one is warm).
const [xb, yb] = trainLoader[Symbol.iterator]().next().value as [Tensor, Tensor];
const time = (fn: () => void, n: number) => {
  const s = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - s) / n;
};
const steps = Number(args['eager-steps']);
const jitMs = time(() => trainer.trainStep(xb, yb), steps);
const eagerTrainer = new Trainer(model, { optimizer: new optim.Adam(model.parameters(), { lr: 1e-5 }), loss: lossFn, jit: false });
eagerTrainer.trainStep(xb, yb);
const eagerMs = time(() => eagerTrainer.trainStep(xb, yb), steps);
console.log(`training step (batch ${batchSize}): jit ${jitMs.toFixed(1)} ms, eager ${eagerMs.toFixed(1)} ms (${(eagerMs / jitMs).toFixed(2)}x)`);

mkdirSync(dirname(args.out!), { recursive: true });
await save(model.stateDict(), args.out!);
console.log(`saved weights to ${args.out} (${Object.keys(model.stateDict()).length} tensors); total ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// Deploy: the trained model (eval mode) becomes one artifact (IR, weights, wasm code, WGSL), and a fresh
// Node process that imports only kiln/runtime must predict the same classes on the whole test set as
// the jitted model here (examples/deploy_check.ts; it exits non-zero otherwise).
model.eval();
const evalBatch = 500;
const [example] = testLoader[Symbol.iterator]().next().value as [Tensor, Tensor];
await exportArtifact(model, [example], { path: args.artifact!, names: model.stateDict() });
const predict = jit((x: Tensor) => model.call(x) as Tensor);
const logits: Float32Array[] = [];
for (const [x] of testLoader) if (x.shape[0] === evalBatch) logits.push(predict(x).dataSync() as Float32Array);
const dir = dirname(args.artifact!);
const images = test.columns[0];
await saveNpy(tensor(images.data as Float32Array).reshape(images.shape), `${dir}/fashion-test-images.npy`);
const flat = new Float32Array(logits.reduce((n, l) => n + l.length, 0));
logits.reduce((at, l) => (flat.set(l, at), at + l.length), 0);
await saveNpy(tensor(flat).reshape([flat.length / 10, 10]), `${dir}/fashion-test-logits.npy`);
console.log(`exported ${args.artifact}; checking it in a fresh process that imports only kiln/runtime...`);
execFileSync(process.execPath, ['--import', 'tsx', 'examples/deploy_check.ts', args.artifact!, `${dir}/fashion-test-images.npy`, `${dir}/fashion-test-logits.npy`], { stdio: 'inherit' });
