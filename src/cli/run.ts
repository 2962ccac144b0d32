// `kiln run artifact.kiln input.npy|json [...]`: runs an artifact with the runtime alone and prints
// the outputs (or writes them with --out).
import type { CliIO } from './io.js';
import { UsageError, parse, readBytes, readInputFile, writeOutputs } from './io.js';
import { loadArtifact, loadArtifactSync } from '../runtime/load.js';
import type { RuntimeBackend } from '../runtime/artifact.js';
import type { RuntimeTensor } from '../runtime/tensor.js';
import { SHORT_NAME } from '../ir/dtype.js';

export const RUN_USAGE = `kiln run <artifact.kiln> <input.npy|input.json>... [--out out.npy|out.json] [--full]
         [--backend auto|wasm|webgpu|interpreter] [--max-loop-iterations <n>]
  Runs the artifact on the inputs (one file per input, or one .json holding all) and prints each
  output, or writes them to --out (.json: all outputs; .npy: one file per output). --backend webgpu
  needs a GPU (in Node: the optional 'webgpu' package); --max-loop-iterations bounds while/scan loops
  (default 1000000).`;

const BACKENDS: readonly RuntimeBackend[] = ['auto', 'wasm', 'webgpu', 'interpreter'];

function preview(t: RuntimeTensor, full: boolean): string {
  const head = `${t.name}: ${SHORT_NAME[t.dtype]}[${t.shape.join(',')}]`;
  const data = t.dataSync();
  if (full || data.length <= 64) return `${head} = ${JSON.stringify(t.tolist())}`;
  const first = Array.from(data.subarray(0, 8), (v) => Number(v.toPrecision(6)));
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return `${head} = [${first.join(', ')}, ...] (min ${min.toPrecision(6)}, max ${max.toPrecision(6)}, mean ${(sum / data.length).toPrecision(6)}; --full prints all)`;
}

export async function runCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string', short: 'o' }, full: { type: 'boolean' }, backend: { type: 'string' }, 'max-loop-iterations': { type: 'string' } }, 'run');
  const [path, ...inputFiles] = positionals;
  if (!path || inputFiles.length === 0) throw new UsageError('kiln run: needs an artifact and at least one input file');
  const backend = (values.backend ?? 'auto') as RuntimeBackend;
  if (!BACKENDS.includes(backend)) throw new UsageError(`kiln run: --backend must be one of ${BACKENDS.join(', ')}, got '${String(values.backend)}'`);
  const limit = values['max-loop-iterations'];
  const maxLoopIterations = limit === undefined ? undefined : Number(limit);
  if (maxLoopIterations !== undefined && !(Number.isSafeInteger(maxLoopIterations) && maxLoopIterations >= 0)) throw new UsageError(`kiln run: --max-loop-iterations must be a non-negative integer, got '${String(limit)}'`);
  const options = { backend, ...(maxLoopIterations !== undefined ? { maxLoopIterations } : {}) };
  // Acquiring a GPU is asynchronous; the other backends load synchronously.
  const art = backend === 'webgpu' ? await loadArtifact(readBytes(path), options) : loadArtifactSync(readBytes(path), options);
  let inputs: unknown[] | Record<string, unknown>;
  if (inputFiles.length === 1) inputs = readInputFile(inputFiles[0], art.inputs.length);
  else inputs = inputFiles.map((f) => (readInputFile(f, 1) as unknown[])[0]);
  const outs = await art.run(inputs as never);
  if (typeof values.out === 'string') {
    const written = writeOutputs(values.out, outs.map((o) => ({ name: o.name, array: { dtype: o.dtype, shape: o.shape, data: o.dataSync() } })));
    io.out(`wrote ${written.join(', ')}`);
  } else {
    for (const o of outs) io.out(preview(o, values.full === true));
  }
  return 0;
}
