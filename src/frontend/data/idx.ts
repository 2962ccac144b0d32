// Readers for the IDX format of MNIST / Fashion-MNIST (gzip transparent), validated so malformed
// or truncated bytes give a KilnError instead of a crash or a huge allocation.
import { gunzipSync } from 'node:zlib';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../ir/error.js';

export interface IdxArray {
  /** Dimension sizes, e.g. [60000, 28, 28]. */
  shape: number[];
  /** The raw uint8 values, row-major. */
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parses IDX bytes (gzipped or not). Only the unsigned-byte element type is supported, as in (Fashion-)MNIST. */
export function parseIdx(bytes: Uint8Array, what = 'IDX data'): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: 1 << 30 });
    } catch (e) {
      throw new KilnError(`parseIdx: ${what} is not valid gzip: ${(e as Error).message}`);
    }
  }
  if (bytes.length < 4) throw new KilnError(`parseIdx: ${what} is ${bytes.length} bytes, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new KilnError(`parseIdx: ${what} has a bad magic number (first two bytes must be 0)`);
  if (bytes[2] !== UBYTE) throw new KilnError(`parseIdx: ${what} has element type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are supported`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new KilnError(`parseIdx: ${what} declares rank ${rank}; expected 1 to 4`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new KilnError(`parseIdx: ${what} is truncated inside its header`);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    n *= d;
  }
  if (bytes.length - header !== n) {
    throw new KilnError(`parseIdx: ${what} declares shape [${shape.join(',')}] (${n} values) but holds ${bytes.length - header}`);
  }
  return { shape, data: bytes.subarray(header, header + n) };
}

export function readIdx(path: string): IdxArray {
  if (!existsSync(path)) throw new KilnError(`readIdx: no file at ${path}`);
  return parseIdx(readFileSync(path), path);
}

export interface FashionMnist {
  trainImages: IdxArray;
  trainLabels: IdxArray;
  testImages: IdxArray;
  testLabels: IdxArray;
  /** The folder the files were read from. */
  root: string;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Folders searched in order when no path is given: the repo's copy, then Debian's package. */
export const FASHION_MNIST_FOLDERS = [
  join(new URL('../../..', import.meta.url).pathname, 'data', 'fashion-mnist'),
  join(new URL('../../../..', import.meta.url).pathname, 'data', 'fashion-mnist'),
  '/usr/share/datasets/fashion-mnist',
];

function findFile(root: string, name: string): string | null {
  for (const candidate of [join(root, name + '.gz'), join(root, name)]) if (existsSync(candidate)) return candidate;
  return null;
}

/** Loads Fashion-MNIST (or MNIST, same layout) from `root`, or from the first known folder that has it. */
export function loadFashionMnist(root?: string): FashionMnist {
  const roots = root ? [root] : FASHION_MNIST_FOLDERS;
  for (const r of roots) {
    const paths = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, findFile(r, f)]));
    if (Object.values(paths).every((p) => p !== null)) {
      const read = (k: keyof typeof FILES) => readIdx(paths[k] as string);
      const out = { trainImages: read('trainImages'), trainLabels: read('trainLabels'), testImages: read('testImages'), testLabels: read('testLabels'), root: r };
      if (out.trainImages.shape[0] !== out.trainLabels.shape[0] || out.testImages.shape[0] !== out.testLabels.shape[0]) {
        throw new KilnError(`loadFashionMnist: image and label counts differ in ${r}`);
      }
      return out;
    }
  }
  throw new KilnError(`loadFashionMnist: the four IDX files were not found in ${roots.join(', ')} (install Debian's dataset-fashion-mnist or pass a path)`);
}
