// NumPy .npy files for single tensors (model inputs, test vectors): saveNpy / loadNpy and byte forms.
import { parseNpy, serializeNpy } from '../../format/npy.js';
import { readFileBytes, writeFileBytes } from '../../format/files.js';
import { Tensor } from '../tensor.js';
import { defaultDevice } from '../trace.js';
import { toHostRecord } from './safetensors.js';

export { parseNpy, serializeNpy };

export async function tensorToNpy(t: Tensor): Promise<Uint8Array> {
  return serializeNpy((await toHostRecord('saveNpy', { tensor: t })).tensor);
}

export function tensorFromNpy(bytes: Uint8Array, options: { device?: string } = {}): Tensor {
  return Tensor._fromHost(parseNpy(bytes), options.device ?? defaultDevice());
}

export async function saveNpy(t: Tensor, path: string): Promise<void> {
  await writeFileBytes('saveNpy', path, await tensorToNpy(t));
}

/** Reads a .npy file (f4, f8, i4, b1; other integer widths become int32 when they fit). */
export async function loadNpy(path: string, options: { device?: string } = {}): Promise<Tensor> {
  return tensorFromNpy(await readFileBytes('loadNpy', path), options);
}
