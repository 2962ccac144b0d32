// Weights on disk in the safetensors format: save(stateDict, path) / load(path), and the byte-level
// forms for callers that move bytes themselves (browser storage, network).
import { KilnError } from '../../ir/error.js';
import type { HostArray } from '../../ir/array.js';
import { parseSafetensors, serializeSafetensors } from '../../format/safetensors.js';
import { readFileBytes, writeFileBytes } from '../../format/files.js';
import { Tensor } from '../tensor.js';
import { show } from '../args.js';
import { defaultDevice } from '../trace.js';

export { parseSafetensors, serializeSafetensors };

/** Host copies of tensors by name (waits for devices that read asynchronously). */
export async function toHostRecord(op: string, record: Record<string, Tensor>): Promise<Record<string, HostArray>> {
  if (record === null || typeof record !== 'object' || Array.isArray(record) || record instanceof Tensor) throw new KilnError(`${op}: expected a record of tensors, got ${show(record)}`);
  const out: Record<string, HostArray> = {};
  for (const [name, t] of Object.entries(record)) {
    if (!(t instanceof Tensor)) throw new KilnError(`${op}: '${name}' is not a tensor: ${show(t)}`);
    if (t.isTraced) throw new KilnError(`${op}: ${name} (${t.describe()}) is a traced tensor; save concrete values outside jit`);
    out[name] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
  }
  return out;
}

/** Tensors from a parsed record, on `device`. */
export function fromHostRecord(record: Record<string, HostArray>, device = defaultDevice()): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, a] of Object.entries(record)) out[name] = Tensor._fromHost(a, device);
  return out;
}

/** The safetensors bytes of a state dict (or any record of tensors). */
export async function stateDictToBytes(record: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  return toBytes('stateDictToBytes', record, metadata);
}

async function toBytes(op: string, record: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  return serializeSafetensors(await toHostRecord(op, record), metadata);
}

/** Tensors from safetensors bytes. */
export function stateDictFromBytes(bytes: Uint8Array, options: { device?: string } = {}): Record<string, Tensor> {
  return fromHostRecord(parseSafetensors(bytes).tensors, options.device);
}

/** Writes a state dict to `path` in the safetensors format (readable by PyTorch, JAX, candle, ...). */
export async function save(record: Record<string, Tensor>, path: string, options: { metadata?: Record<string, string> } = {}): Promise<void> {
  if (typeof path !== 'string') throw new KilnError(`save: path must be a string, got ${show(path)}`);
  await writeFileBytes('save', path, await toBytes('save', record, options?.metadata));
}

/** Reads a safetensors file into tensors by name (for `model.loadStateDict(await load(path))`). */
export async function load(path: string, options: { device?: string } = {}): Promise<Record<string, Tensor>> {
  return stateDictFromBytes(await readFileBytes('load', path), options);
}
