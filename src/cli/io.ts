// What CLI commands share: an output sink (so tests capture it), argument parsing that turns
// mistakes into usage errors, and reading inputs/writing outputs as .npy or .json.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { KilnError } from '../ir/error.js';
import type { HostArray } from '../ir/array.js';
import { parseNpy, serializeNpy } from '../format/npy.js';
import { parseJson } from '../format/bytes.js';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const consoleIO: CliIO = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

type Options = Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? O : never) : never;

export function parse(argv: string[], options: Options, command: string): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (e) {
    throw new UsageError(`kiln ${command}: ${(e as Error).message}`);
  }
}

export function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new KilnError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Inputs from a file: .npy is one array; .json is a nested array (one input), an array of inputs
 * ([nested, {data, shape}, ...]) when the artifact takes several, or an object of inputs by name.
 */
export function readInputFile(path: string, inputCount: number): unknown[] | Record<string, unknown> {
  if (path.endsWith('.npy')) {
    const a = parseNpy(readBytes(path));
    return [{ data: a.data, shape: a.shape }];
  }
  if (path.endsWith('.json')) {
    const x = parseJson(path, new TextDecoder().decode(readBytes(path)));
    if (Array.isArray(x)) return inputCount > 1 ? x : [x];
    if (typeof x === 'object' && x !== null) return 'data' in x && 'shape' in x ? [x] : (x as Record<string, unknown>);
    throw new KilnError(`${path}: expected a nested array, an array of inputs or an object of inputs by name`);
  }
  throw new UsageError(`input ${path}: expected a .npy or .json file`);
}

export function writeOutputs(path: string, outputs: { name: string; array: HostArray }[]): string[] {
  if (path.endsWith('.json')) {
    const obj = Object.fromEntries(outputs.map((o) => [o.name, { dtype: o.array.dtype, shape: o.array.shape, data: Array.from(o.array.data) }]));
    writeFileSync(path, JSON.stringify(obj));
    return [path];
  }
  if (path.endsWith('.npy')) {
    if (outputs.length === 1) {
      writeFileSync(path, serializeNpy(outputs[0].array));
      return [path];
    }
    return outputs.map((o) => {
      const p = path.replace(/\.npy$/, `.${o.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`);
      writeFileSync(p, serializeNpy(o.array));
      return p;
    });
  }
  throw new UsageError(`--out ${path}: expected a .npy or .json file`);
}
