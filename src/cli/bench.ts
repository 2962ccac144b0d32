// `kiln bench module.ts`: kiln.benchmark on the function a module describes (eager vs jit, kernels,
// intermediate bytes, compile and per-call time).
import type { CliIO } from './io.js';
import { UsageError, parse } from './io.js';
import { loadFunctionSpec } from './function_spec.js';

export const BENCH_USAGE = `kiln bench <module.js|module.ts> [--name <export>] [--iterations N] [--warmup N] [--device wasm|cpu-ref] [--no-eager] [--json]
  The module exports \`kilnExport\` (or the export named by --name, or default) as { fn, args }: args are
  tensors, {data, shape, dtype?} or {shape, dtype?} specs (filled with seeded random values).`;

function count(v: unknown, what: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`kiln bench: --${what} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}

export async function benchCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { name: { type: 'string' }, iterations: { type: 'string' }, warmup: { type: 'string' }, device: { type: 'string' }, 'no-eager': { type: 'boolean' }, json: { type: 'boolean' } },
    'bench',
  );
  if (positionals.length !== 1) throw new UsageError('kiln bench: needs one module file');
  const spec = await loadFunctionSpec(positionals[0], { name: values.name as string | undefined, device: values.device as string | undefined, command: 'bench' });
  const { benchmark } = await import('../frontend/bench.js');
  const r = await benchmark(spec.fn, spec.args, {
    name: spec.name,
    iterations: count(values.iterations, 'iterations', 1),
    warmup: count(values.warmup, 'warmup', 0),
    eager: !values['no-eager'],
  });
  io.out(values.json ? JSON.stringify({ ...r, toString: undefined }, null, 1) : String(r));
  return 0;
}
