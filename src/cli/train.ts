// `kiln train net.json --solver solver.json`: builds the network from its declarative spec, trains it
// as the solver says on a shard file (or Fashion-MNIST), snapshots checkpoints, optionally exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIO } from './io.js';
import { UsageError, parse } from './io.js';
import { KilnError } from '../ir/error.js';
import { parseJson } from '../format/bytes.js';

export const TRAIN_USAGE = `kiln train <net.json> --solver <solver.json> [--data <train.kshard>|fashion-mnist] [--test <test.kshard>]
           [--device <name>] [--snapshot-dir <dir>] [--resume <checkpoint>] [--export <model.kiln>] [--backends wasm|none]
  Trains a declarative network (Module.fromSpec) with a solver spec (optimizer, lrPolicy, maxIter,
  batchSize, testInterval, snapshot). Without --data it uses Fashion-MNIST from the repository's data
  folder (train and test split). Checkpoints go to <snapshot-dir>/<snapshotPrefix>_iter_<n>.safetensors.`;

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KilnError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseJson(path, text);
}

export async function trainCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    solver: { type: 'string', short: 's' },
    data: { type: 'string' },
    test: { type: 'string' },
    device: { type: 'string' },
    'snapshot-dir': { type: 'string' },
    resume: { type: 'string' },
    export: { type: 'string' },
    backends: { type: 'string' },
  }, 'train');
  if (positionals.length !== 1 || typeof values.solver !== 'string') throw new UsageError('kiln train: needs a network spec and --solver');
  const [{ Module }, { SpecNet }, { checkSolverSpec, solve, makeOptimizer }, { ShardDataset }, { TensorDataset }, { saveCheckpoint, loadCheckpoint }, { setDefaultDevice }] = await Promise.all([
    import('../frontend/nn/module.js'),
    import('../frontend/nn/spec.js'),
    import('../frontend/train/solver.js'),
    import('../frontend/data/shard.js'),
    import('../frontend/data/dataset.js'),
    import('../frontend/io/checkpoint.js'),
    import('../frontend/trace.js'),
  ]);
  await import('../index.js'); // registers devices and Tensor methods the layers use
  if (typeof values.device === 'string') setDefaultDevice(values.device);
  const netPath = positionals[0];
  let net: InstanceType<typeof SpecNet>;
  try {
    net = Module.fromSpec(readJson(netPath));
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(`${netPath}: ${e.message}`);
    throw e;
  }
  let solver;
  try {
    solver = checkSolverSpec(readJson(values.solver));
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(`${values.solver}: ${e.message}`);
    throw e;
  }
  const data = typeof values.data === 'string' ? values.data : 'fashion-mnist';
  let train;
  let test;
  if (data === 'fashion-mnist' || data === 'mnist') {
    const { loadFashionMnist } = await import('../frontend/data/idx.js');
    const fm = loadFashionMnist();
    const column = (a: { shape: number[]; data: Uint8Array }, scale: number) => ({ dtype: 'float32' as const, shape: a.shape, data: Float32Array.from(a.data, (v) => v * scale) });
    const labels = (a: { shape: number[]; data: Uint8Array }) => ({ dtype: 'int32' as const, shape: a.shape, data: Int32Array.from(a.data) });
    train = new TensorDataset(column(fm.trainImages, 1 / 255), labels(fm.trainLabels));
    test = new TensorDataset(column(fm.testImages, 1 / 255), labels(fm.testLabels));
    io.out(`data: Fashion-MNIST from ${fm.root} (${train.length} train, ${test.length} test)`);
  } else {
    train = new ShardDataset(data);
    io.out(`data: ${data} (${train.length} samples; fields ${train.fields.map((f) => f.name).join(', ')})`);
  }
  if (typeof values.test === 'string') test = new ShardDataset(values.test);
  const optimizer = makeOptimizer(net, solver.optimizer);
  let startIter = 0;
  if (typeof values.resume === 'string') {
    const info = await loadCheckpoint(net, values.resume, { optimizer });
    startIter = typeof (info.extra as { iter?: unknown })?.iter === 'number' ? (info.extra as { iter: number }).iter : 0;
    io.out(`resumed from ${values.resume} at iteration ${startIter}`);
  }
  const dir = typeof values['snapshot-dir'] === 'string' ? values['snapshot-dir'] : '.';
  const prefix = solver.snapshotPrefix ?? net.toSpec().name ?? 'net';
  const stream = { write: (t: string) => io.out(t.replace(/\n$/, '')) };
  const result = await solve(net, solver, {
    train,
    test,
    optimizer,
    startIter,
    stream,
    onSnapshot: async (iter, model, opt) => {
      if (!solver.snapshot && iter < solver.maxIter) return;
      const path = join(dir, `${prefix}_iter_${iter}.safetensors`);
      await saveCheckpoint(model, path, { optimizer: opt, extra: { iter } });
      io.out(`snapshot: ${path}`);
    },
  });
  if (typeof values.export === 'string') {
    const { exportArtifact } = await import('../frontend/export/export.js');
    net.eval();
    const spec = net.toSpec();
    const { backendsOption } = await import('./export.js');
    await exportArtifact(net, spec.inputs.map((i) => ({ shape: ['N', ...i.shape], name: i.name })), values.export, { name: spec.name ?? 'net', exampleBatch: solver.batchSize, ...backendsOption(values.backends) });
    io.out(`exported ${values.export}`);
  }
  for (const d of [train, test]) (d as { close?: () => void } | undefined)?.close?.();
  io.out(`done: ${result.iterations} iterations, last loss ${result.loss.toFixed(4)}${result.test ? `, test accuracy ${result.test.accuracy.toFixed(4)}` : ''}`);
  return 0;
}
