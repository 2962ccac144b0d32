// `kiln export model.js --out model.kiln`: imports a module that describes what to export and writes
// the artifact. The module exports `kilnExport` (or default) = { fn | model, args, options? }, where
// args are example inputs (tensors or {shape, dtype} specs) — the same arguments exportArtifact takes.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../ir/error.js';
import type { CliIO } from './io.js';
import { UsageError, parse } from './io.js';

export const EXPORT_USAGE = `kiln export <module.js|module.ts> --out <artifact.kiln> [--name <export>] [--batch <symbol>] [--backends wasm,webgpu|none]
  The module exports \`kilnExport\` (or the export named by --name, or default) as
  { fn: function | jitted function | module, args: [example inputs or {shape, dtype} specs], options? }.
  --backends none leaves compiled code out (the runtime then interprets the IR).
  TypeScript modules need the CLI to run under tsx (npx tsx node_modules/kiln/dist/cli/bin.js ...).`;

/** `--backends wasm` / `--backends none` as exportArtifact's option (absent: the module's or the default). */
export function backendsOption(v: unknown): { backends?: ('wasm' | 'webgpu')[] } {
  if (v === undefined) return {};
  if (v === 'none') return { backends: [] };
  const list = String(v).split(',').map((s) => s.trim());
  for (const b of list) if (b !== 'wasm' && b !== 'webgpu') throw new UsageError(`--backends: unknown backend '${b}' (wasm, webgpu or none)`);
  return { backends: list as ('wasm' | 'webgpu')[] };
}

interface ExportSpec {
  fn?: unknown;
  model?: unknown;
  args?: unknown[];
  options?: Record<string, unknown>;
}

export async function exportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string', short: 'o' }, name: { type: 'string' }, batch: { type: 'string' }, backends: { type: 'string' } }, 'export');
  if (positionals.length !== 1 || typeof values.out !== 'string') throw new UsageError('kiln export: needs one module file and --out');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(positionals[0])).href)) as Record<string, unknown>;
  } catch (e) {
    throw new KilnError(`kiln export: cannot import ${positionals[0]}: ${(e as Error).message}`);
  }
  const key = typeof values.name === 'string' ? values.name : 'kilnExport' in mod ? 'kilnExport' : 'default';
  const spec = mod[key] as ExportSpec | undefined;
  if (!spec || typeof spec !== 'object') throw new KilnError(`kiln export: ${positionals[0]} has no export ${key} (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  const target = spec.fn ?? spec.model;
  if (!target) throw new KilnError(`kiln export: ${key} needs fn (a function, jitted function or module) or model`);
  if (!Array.isArray(spec.args)) throw new KilnError(`kiln export: ${key}.args must be the array of example inputs`);
  const { exportArtifact } = await import('../frontend/export/export.js');
  const options = { ...(spec.options ?? {}), ...(typeof values.batch === 'string' ? { batch: values.batch } : {}), ...backendsOption(values.backends) };
  const bytes = await exportArtifact(target, spec.args, values.out, options);
  io.out(`wrote ${values.out} (${bytes.length} bytes)`);
  return 0;
}
