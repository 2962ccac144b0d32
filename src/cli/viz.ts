// `kiln viz module.ts --out graph.html`: the function's IR before and after fusion as an HTML page
// (inline SVG, kernels as clusters), optionally with per-kernel times and the Graphviz dot text.
import { writeFileSync } from 'node:fs';
import type { CliIO } from './io.js';
import { UsageError, parse } from './io.js';
import { loadFunctionSpec } from './function_spec.js';

export const VIZ_USAGE = `kiln viz <module.js|module.ts> --out <page.html> [--name <export>] [--dot <graph.dot>] [--profile] [--iterations N] [--device wasm|cpu-ref]
  The module exports { fn, args } as for kiln bench. --profile times each kernel on the device.`;

export async function vizCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { out: { type: 'string', short: 'o' }, name: { type: 'string' }, dot: { type: 'string' }, profile: { type: 'boolean' }, iterations: { type: 'string' }, device: { type: 'string' } },
    'viz',
  );
  if (positionals.length !== 1 || typeof values.out !== 'string') throw new UsageError('kiln viz: needs one module file and --out');
  const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations >= 1)) throw new UsageError(`kiln viz: --iterations must be a positive integer, got ${String(values.iterations)}`);
  const spec = await loadFunctionSpec(positionals[0], { name: values.name as string | undefined, device: values.device as string | undefined, command: 'viz' });
  const viz = await import('../frontend/viz/index.js');
  const views = viz.fusionViews(spec.fn, spec.args, { name: spec.name });
  const profile = values.profile ? await viz.profileKernelsAsync(spec.fn, spec.args, { iterations }) : undefined;
  writeFileSync(values.out, viz.vizHtml(views.before, views.after, { profile }));
  io.out(`wrote ${values.out}: ${views.kernels} kernel${views.kernels === 1 ? '' : 's'}, ${views.peakBytes} bytes of intermediates${profile ? `, profiled ${profile.totalMs.toFixed(3)} ms per call on '${profile.device}'` : ''}`);
  if (typeof values.dot === 'string') {
    writeFileSync(values.dot, viz.toDot(views.after));
    io.out(`wrote ${values.dot}`);
  }
  return 0;
}
