// NumPy .npy files for single tensors (model inputs, test vectors): saveNpy / loadNpy and byte forms.
import { parseNpy, serializeNpy } from '../../format/npy.js';
import { readFileBytes, writeFileBytes } from '../../format/files.js';
import { Tensor } from '../tensor.js';
import { show, tensorArg } from '../args.js';
import { KilnError } from '../../ir/error.js';
import { defaultDevice } from '../trace.js';
import { toHostRecord } from './safetensors.js';

export { parseNpy, serializeNpy };

export async function tensorToNpy(t: Tensor): Promise<Uint8Array> {
  return npyBytes('tensorToNpy', t);
}

async function npyBytes(op: string, t: Tensor): Promise<Uint8Array> {
  tensorArg(op, t);
  return serializeNpy((await toHostRecord(op, { tensor: t })).tensor);
}

export function tensorFromNpy(bytes: Uint8Array, options: { device?: string } = {}): Tensor {
  return Tensor._fromHost(parseNpy(bytes), options.device ?? defaultDevice());
}

export async function saveNpy(t: Tensor, path: string): Promise<void> {
  if (typeof path !== 'string') throw new KilnError(`saveNpy: path must be a string, got ${show(path)}`);
  await writeFileBytes('saveNpy', path, await npyBytes('saveNpy', t));
}

/** Reads a .npy file (f4, f8, i4, b1; other integer widths become int32 when they fit). */
export async function loadNpy(path: string, options: { device?: string } = {}): Promise<Tensor> {
  return tensorFromNpy(await readFileBytes('loadNpy', path), options);
}
