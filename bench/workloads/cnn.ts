// The demo's training step (examples/demo.ts): the Fashion-MNIST CNN (conv-bn-relu-pool ×2, linear)
// with Adam through Trainer.trainStep, jitted vs eager, on random images. Kiln only: the model is
// written with Kiln's nn modules, and rewriting it per peer would measure a different program.
import type { Impl, Row } from '../harness.js';
import type { Env, Kiln } from '../systems.js';
import type { Tensor } from '../../src/index.js';
import { labels, uniform } from '../data.js';
import { jitInfo } from './common.js';

const BATCH = 128;

function makeModel(k: Kiln) {
  const { nn } = k;
  class FashionCNN extends nn.Module {
    features = new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.BatchNorm2d(32), new nn.ReLU(), new nn.MaxPool2d(2),
    );
    classifier = new nn.Linear(32 * 7 * 7, 10);
    forward(x: Tensor): Tensor {
      const h = this.features.call(x) as Tensor;
      return this.classifier.call(h.reshape([h.shape[0], -1]));
    }
  }
  return new FashionCNN();
}

/** One set of initial weights (host copies), so eager, jit and the reference start equal. */
let initial: Record<string, { data: Float32Array; shape: readonly number[] }> | null = null;

function initialWeights(k: Kiln): NonNullable<typeof initial> {
  if (initial) return initial;
  const prev = k.defaultDevice();
  k.setDefaultDevice('cpu-ref');
  try {
    k.manualSeed(3);
    const m = makeModel(k);
    initial = Object.fromEntries(Object.entries(m.stateDict()).map(([n, t]) => [n, { data: Float32Array.from(t.dataSync() as ArrayLike<number>), shape: t.shape }]));
  } finally {
    k.setDefaultDevice(prev);
  }
  return initial;
}

function cnnImpl(env: Env, jitted: boolean, device = env.kilnDevice): Impl {
  const k = env.kiln;
  const prev = k.defaultDevice();
  k.setDefaultDevice(device);
  try {
    const model = makeModel(k);
    const w = initialWeights(k);
    const state = model.stateDict();
    // Buffers keep their dtype (BatchNorm's step counter may be an integer).
    model.loadStateDict(Object.fromEntries(Object.entries(w).map(([n, v]) => [n, k.tensor(v.data, { device, dtype: state[n].dtype }).reshape(v.shape)])));
    const x = k.tensor(uniform(BATCH * 28 * 28, 61, -1, 2), { device }).reshape([BATCH, 1, 28, 28]);
    const y = k.tensor(labels(BATCH, 10, 62), { device });
    const trainer = new k.Trainer(model, { optimizer: new k.optim.Adam(model.parameters(), { lr: 0.002 }), loss: (o, t) => k.crossEntropy(o, t), jit: jitted });
    let loss = NaN;
    return {
      run() {
        // The optimizer makes its state on the default device at the first step.
        const before = k.defaultDevice();
        k.setDefaultDevice(device);
        try {
          loss = trainer.trainStep(x, y).loss;
        } finally {
          k.setDefaultDevice(before);
        }
        // No gc() needed: trainStep frees its eager step's intermediates itself (a tidy scope), so the
        // synchronous loop benny runs keeps the wasm heap flat (it once grew ~0.5 GB a step to OOM).
      },
      // Adam's first step moves every weight by about ±lr whatever the gradient's size, so weights of
      // near-zero gradient may legitimately differ in sign: the check compares the first step's loss.
      result: () => [loss],
      info: () => (jitted ? jitInfo((trainer as unknown as { compiled: { stats(): Parameters<typeof jitInfo>[0] } }).compiled.stats()) : 'Trainer.trainStep, eager'),
      dispose() {
        x.dispose();
        y.dispose();
      },
    };
  } finally {
    k.setDefaultDevice(prev);
  }
}

export function cnnRow(): Row {
  const peer = 'the demo model is written with Kiln nn modules (not ported)';
  return {
    id: 'cnn-train',
    title: 'demo CNN training step (conv-bn-relu-pool ×2, linear; Adam), batch 128',
    unit: 'steps/s',
    quick: true,
    tolerance: 1e-4,
    reference: (env) => {
      const impl = cnnImpl(env, false, 'cpu-ref');
      impl.run();
      return impl.result() as number[];
    },
    impls: {
      'kiln-eager': (env) => cnnImpl(env, false),
      'kiln-jit': (env) => cnnImpl(env, true),
    },
    missing: { 'tfjs-wasm': peer, 'tfjs-cpu': peer, 'jax-wasm': peer, 'onnx-native': 'inference only: onnxruntime-node has no training API' },
  };
}
