// Reading and writing whole files in Node without making Node a dependency of browser bundles:
// node:fs is imported lazily through a non-literal specifier that bundlers leave alone.
import { KilnError } from '../ir/error.js';
import { describeValue } from './bytes.js';

const NODE_FS = 'node:fs/promises';

interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
}

async function nodeFs(op: string, path: string): Promise<NodeFs> {
  try {
    return (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
  } catch {
    throw new KilnError(`${op}: the path ${path} needs Node's fs; in a browser pass bytes instead`);
  }
}

function checkPath(op: string, path: unknown): void {
  if (typeof path !== 'string') throw new KilnError(`${op}: path must be a string, got ${describeValue(path)}`);
}

export async function readFileBytes(op: string, path: string): Promise<Uint8Array> {
  checkPath(op, path);
  const fs = await nodeFs(op, path);
  try {
    const buf = await fs.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new KilnError(`${op}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function writeFileBytes(op: string, path: string, bytes: Uint8Array): Promise<void> {
  checkPath(op, path);
  const fs = await nodeFs(op, path);
  try {
    await fs.writeFile(path, bytes);
  } catch (e) {
    throw new KilnError(`${op}: cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
