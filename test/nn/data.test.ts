// data: IDX parsing from hand-built bytes (plain, gzip, malformed), the Fashion-MNIST folder loader, CSV,
// TensorDataset, DataLoader (batch counts, seeded shuffles, dropLast, collate, async order) and transforms.
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/ir/error.js';
import { Tensor } from '../../src/frontend/tensor.js';
import { tensor } from '../../src/frontend/convert.js';
import { parseIdx, readIdx, loadFashionMnist } from '../../src/frontend/data/idx.js';
import { parseCsv, readCsv } from '../../src/frontend/data/csv.js';
import { TensorDataset, gatherRows } from '../../src/frontend/data/dataset.js';
import type { Dataset } from '../../src/frontend/data/dataset.js';
import { DataLoader, defaultCollate, mulberry32, shuffledIndices } from '../../src/frontend/data/loader.js';
import { randomCrop, randomHorizontalFlip, normalize, compose } from '../../src/frontend/data/transforms.js';
import { defaultDevice } from '../../src/frontend/trace.js';
import { expectAllClose, rand, values } from './helpers.js';

/** IDX bytes: magic 0 0 type rank, big-endian uint32 dims, then the data. */
function idx(shape: number[], data: number[], type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, type, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return Uint8Array.from([...header, ...data]);
}

describe('IDX', () => {
  const images = Array.from({ length: 2 * 3 * 2 }, (_, i) => (i * 37 + 5) % 256);

  it('parses hand-built bytes (rank 1 and 3), gzipped or not', () => {
    const parsed = parseIdx(idx([2, 3, 2], images));
    expect(parsed.shape).toEqual([2, 3, 2]);
    expect([...parsed.data]).toEqual(images);
    const labels = parseIdx(gzipSync(idx([4], [9, 0, 3, 7])));
    expect(labels.shape).toEqual([4]);
    expect([...labels.data]).toEqual([9, 0, 3, 7]);
    // Large dimensions use all four big-endian bytes.
    expect(parseIdx(idx([258], Array.from({ length: 258 }, (_, i) => i % 251))).shape).toEqual([258]);
  });

  it('rejects malformed input with a KilnError naming the problem', () => {
    const bad: [Uint8Array, RegExp][] = [
      [idx([2, 3, 2], images).subarray(0, 20), /declares shape \[2,3,2\] \(12 values\) but holds 4/],
      [Uint8Array.from([...idx([2, 3, 2], images), 1]), /\(12 values\) but holds 13/],
      [idx([2, 3, 2], images).subarray(0, 10), /truncated inside its header/],
      [Uint8Array.from([0, 0, 8]), /3 bytes, too short for an IDX header/],
      [Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), /bad magic number/],
      [idx([1], [0, 0, 0, 1], 0x0d), /element type 0xd; only unsigned bytes/],
      [Uint8Array.from([0, 0, 8, 0]), /declares rank 0; expected 1 to 4/],
      [Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /is not valid gzip/],
      [gzipSync(idx([3], [1, 2, 3])).subarray(0, 15), /is not valid gzip/],
    ];
    for (const [bytes, message] of bad) {
      expect(() => parseIdx(bytes, 'test bytes')).toThrow(KilnError);
      expect(() => parseIdx(bytes, 'test bytes')).toThrow(message);
    }
  });

  it('reads files, and the four Fashion-MNIST files from a folder (gzipped or plain)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
    try {
      writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([2, 3, 2], images)));
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([2], [1, 8]));
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([1, 3, 2], images.slice(0, 6)));
      expect(() => loadFashionMnist(dir)).toThrow(/the four IDX files were not found in /);
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([1], [4])));
      const ds = loadFashionMnist(dir);
      expect(ds.root).toBe(dir);
      expect(ds.trainImages.shape).toEqual([2, 3, 2]);
      expect([...ds.trainLabels.data]).toEqual([1, 8]);
      expect([...ds.testImages.data]).toEqual(images.slice(0, 6));
      expect([...ds.testLabels.data]).toEqual([4]);
      expect([...readIdx(join(dir, 'train-images-idx3-ubyte.gz')).data]).toEqual(images);
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([2], [4, 5])));
      expect(() => loadFashionMnist(dir)).toThrow(/image and label counts differ/);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([2], [1]));
      expect(() => loadFashionMnist(dir)).toThrow(new RegExp(`parseIdx: ${dir}/train-labels-idx1-ubyte declares shape \\[2\\]`));
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(() => readIdx('/nonexistent/file')).toThrow(/readIdx: no file at \/nonexistent\/file/);
  });
});

describe('CSV', () => {
  it('detects a header line, parses numbers, and reports bad cells and ragged rows', () => {
    expect(parseCsv('a, b,c\n1,2.5,-3\n4,5e-1,6\n\n')).toEqual({ header: ['a', 'b', 'c'], rows: [[1, 2.5, -3], [4, 0.5, 6]] });
    expect(parseCsv('1,2\r\n3,4')).toEqual({ header: null, rows: [[1, 2], [3, 4]] });
    expect(parseCsv('7,8\n1,2', { header: true })).toEqual({ header: ['7', '8'], rows: [[1, 2]] });
    expect(() => parseCsv('1,2\n3,x')).toThrow(/parseCsv: row 2, column 2: 'x' is not a number/);
    expect(() => parseCsv('1,2\n3,')).toThrow(/row 2, column 2/);
    expect(() => parseCsv('1,2\n3,4,5')).toThrow(/parseCsv: row 2 has 3 columns, row 1 has 2/);
  });

  it('reads plain and gzipped files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-csv-'));
    try {
      writeFileSync(join(dir, 'a.csv'), 'x,y\n1,2\n');
      writeFileSync(join(dir, 'b.csv.gz'), gzipSync(Buffer.from('3,4\n5,6\n')));
      expect(readCsv(join(dir, 'a.csv'))).toEqual({ header: ['x', 'y'], rows: [[1, 2]] });
      expect(readCsv(join(dir, 'b.csv.gz')).rows).toEqual([[3, 4], [5, 6]]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

/** A dataset of 10 samples [x: f32[2], y: i32[]], x = [i + 0.5, -i]. */
function toy(n = 10): TensorDataset {
  return new TensorDataset(
    tensor(Array.from({ length: n }, (_, i) => [i + 0.5, -i - 0.25])),
    tensor(Array.from({ length: n }, (_, i) => i), { dtype: 'int32' }),
  );
}
const labelsOf = (batch: Tensor[]) => values(batch[1]);

describe('TensorDataset', () => {
  it('indexes samples and gathers batches from host columns', () => {
    const ds = toy();
    expect(ds.length).toBe(10);
    const [x, y] = ds.get(3);
    expect(x.shape).toEqual([2]);
    expect(values(x)).toEqual([3.5, -3.25]);
    expect(y.shape).toEqual([]);
    expect(values(y)).toEqual([3]);
    const [bx, by] = ds.getBatch(Int32Array.of(7, 2));
    expect(bx.shape).toEqual([2, 2]);
    expect(values(bx)).toEqual([7.5, -7.25, 2.5, -2.25]);
    expect(by.dtype).toBe('int32');
    expect(values(by)).toEqual([7, 2]);
    // Host columns (e.g. decoded IDX images) work too.
    const col = { dtype: 'float32' as const, shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    expect(values(gatherRows(col, Int32Array.of(2, 0)))).toEqual([5, 6, 1, 2]);
  });

  it('reports bad columns and indices', () => {
    expect(() => new TensorDataset()).toThrow(/needs at least one column/);
    expect(() => new TensorDataset(tensor(1))).toThrow(/columns need a leading sample dimension/);
    expect(() => new TensorDataset(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/column 1 has 3 samples, column 0 has 2/);
    expect(() => toy().get(10)).toThrow(/Dataset: index 10 is out of range for 10 samples/);
    expect(() => toy().get(-1)).toThrow(KilnError);
  });
});

describe('DataLoader', () => {
  it('batch counts and sizes with and without dropLast; in order without shuffle', () => {
    const all = (l: DataLoader<Tensor[], Tensor[]>) => [...l].map(labelsOf);
    const plain = new DataLoader(toy(), { batchSize: 4 });
    expect(plain.length).toBe(3);
    expect(all(plain)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropped = new DataLoader(toy(), { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect(all(dropped)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(toy(), { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new DataLoader(toy(), { batchSize: 11, dropLast: true }).length).toBe(0);
    expect([...new DataLoader(toy(), { batchSize: 11, dropLast: true })]).toEqual([]);
    expect(new DataLoader(toy()).length).toBe(10);
    const [x] = [...plain][2];
    expect(x.shape).toEqual([2, 2]);
    expect(() => new DataLoader(toy(), { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new DataLoader(toy(), { batchSize: 2.5 })).toThrow(KilnError);
  });

  it('seeded shuffles: a permutation per epoch, epochs differ, the same seed repeats, seeds differ', () => {
    const epochs = (seed: number) => {
      const l = new DataLoader(toy(), { batchSize: 3, shuffle: true, seed });
      return [0, 1, 2].map(() => [...l].flatMap(labelsOf));
    };
    const a = epochs(1);
    for (const e of a) expect([...e].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a[0]).not.toEqual(a[1]);
    expect(a[1]).not.toEqual(a[2]);
    expect(epochs(1)).toEqual(a);
    expect(epochs(2)[0]).not.toEqual(a[0]);
    // Samples stay aligned across columns after shuffling.
    for (const [x, y] of new DataLoader(toy(), { batchSize: 4, shuffle: true, seed: 3 })) {
      expect(values(x)).toEqual(values(y).flatMap((i) => [i + 0.5, -i - 0.25]));
    }
  });

  it('shuffledIndices is a Fisher-Yates permutation from mulberry32', () => {
    const p = shuffledIndices(50, mulberry32(9));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...p]).toEqual([...shuffledIndices(50, mulberry32(9))]);
    expect([...p]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const r = mulberry32(4);
    for (let i = 0; i < 100; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  it('async iteration yields the same batches in the same order as sync iteration', async () => {
    const sync = [...new DataLoader(toy(), { batchSize: 3, shuffle: true, seed: 5 })].map(labelsOf);
    const got: number[][] = [];
    for await (const b of new DataLoader(toy(), { batchSize: 3, shuffle: true, seed: 5 })) got.push(labelsOf(b));
    expect(got).toEqual(sync);
    // An error while preparing a batch rejects the iteration.
    const failing = new DataLoader(toy(), { batchSize: 4, transform: (b) => { if (values(b[1])[0] === 4) throw new Error('boom'); return b; } });
    const seen: number[][] = [];
    await expect((async () => { for await (const b of failing) seen.push(labelsOf(b)); })()).rejects.toThrow('boom');
    expect(seen).toEqual([[0, 1, 2, 3]]);
  });

  it('a consumer that stops early leaves no unhandled rejection behind when the prefetched batch fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let k = 0;
      const l = new DataLoader(toy(), { batchSize: 2, transform: (b) => { if (k++ === 1) throw new Error('prefetch failed'); return b; } });
      for await (const b of l) {
        expect(labelsOf(b)).toEqual([0, 1]);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('collate: the default stacks tensors, numbers, arrays and objects; a custom one replaces getBatch', () => {
    const samples: Dataset<{ x: Tensor; pair: [Tensor, number] }> = {
      length: 5,
      get: (i) => ({ x: tensor([i, i * 2]), pair: [tensor([[i]]), i / 2] }),
    };
    const batches = [...new DataLoader(samples, { batchSize: 2 })] as unknown as { x: Tensor; pair: [Tensor, Tensor] }[];
    expect(batches).toHaveLength(3);
    expect(batches[1].x.shape).toEqual([2, 2]);
    expect(values(batches[1].x)).toEqual([2, 4, 3, 6]);
    expect(batches[1].pair[0].shape).toEqual([2, 1, 1]);
    expect(values(batches[1].pair[1])).toEqual([1, 1.5]);
    // Numbers become float32 on the default device, whatever their values.
    const labels = defaultCollate([3, 0, 7]) as Tensor;
    expect([labels.dtype, labels.device, values(labels)]).toEqual(['float32', defaultDevice(), [3, 0, 7]]);
    expect(values(batches[2].x)).toEqual([4, 8]);
    expect(() => defaultCollate([tensor([1]), tensor([1, 2])])).toThrow(/sample 1 is f32\[2\], sample 0 is f32\[1\]; they cannot be stacked/);
    expect(() => defaultCollate(['a'])).toThrow(/cannot collate samples of type string/);
    const custom = new DataLoader(toy(), { batchSize: 4, collate: (s: Tensor[][]) => s.map((p) => Number(p[1].item())) });
    expect([...custom]).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('applies the batch transform', () => {
    const l = new DataLoader(toy(), { batchSize: 5, transform: ([x, y]: Tensor[]) => [x.mul(2), y] });
    expect(values([...l][1][0])).toEqual([5, 6, 7, 8, 9].flatMap((i) => [2 * i + 1, -2 * i - 0.5]));
  });
});

describe('transforms', () => {
  const batch = rand([3, 2, 4, 5], 1, 0.1, 1);
  const at = (v: number[], [n, c, y, x]: number[]) => v[((n * 2 + c) * 4 + y) * 5 + x];

  it('randomCrop: each image shifted by one offset per image within ±padding, zeros where it leaves the frame', () => {
    expect(values(randomCrop(0, 3)(batch.t))).toEqual(batch.v);
    const out = values(randomCrop(2, 7)(batch.t));
    expect(out).toEqual(values(randomCrop(2, 7)(batch.t)));
    expect(out).not.toEqual(batch.v);
    for (let n = 0; n < 3; n++) {
      // Find the image's offset: the one (dy, dx) that explains every pixel of both channels.
      const fits = (dy: number, dx: number) => [0, 1].every((c) => Array.from({ length: 20 }, (_, k) => [Math.floor(k / 5), k % 5]).every(([y, x]) => {
        const sy = y + dy;
        const sx = x + dx;
        const expected = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? at(batch.v, [n, c, sy, sx]) : 0;
        return at(out, [n, c, y, x]) === expected;
      }));
      const offsets = [-2, -1, 0, 1, 2].flatMap((dy) => [-2, -1, 0, 1, 2].map((dx) => [dy, dx])).filter(([dy, dx]) => fits(dy, dx));
      expect(offsets.length).toBeGreaterThanOrEqual(1);
    }
    // The input is not modified.
    expect(values(batch.t)).toEqual(batch.v);
  });

  it('randomHorizontalFlip mirrors rows with probability p; normalize is (x - mean[c]) / std[c]; compose applies in order', () => {
    const flipped = values(randomHorizontalFlip(1)(batch.t));
    for (let n = 0; n < 3; n++) for (let c = 0; c < 2; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) expect(at(flipped, [n, c, y, x])).toBe(at(batch.v, [n, c, y, 4 - x]));
    expect(values(randomHorizontalFlip(0)(batch.t))).toEqual(batch.v);
    const some = new Set(Array.from({ length: 10 }, (_, s) => values(randomHorizontalFlip(0.5, s)(batch.t)).join()));
    expect(some.size).toBeGreaterThan(1);
    expect(values(batch.t)).toEqual(batch.v);
    const norm = values(normalize([0.5, 0.25], [2, 0.5])(batch.t));
    expectAllClose(norm, batch.v.map((v, i) => (Math.floor(i / 20) % 2 === 0 ? (v - 0.5) / 2 : (v - 0.25) / 0.5)), 1e-6);
    expect(values(batch.t)).toEqual(batch.v);
    expect(() => normalize([0.5], [1])(batch.t)).toThrow(/normalize: 1 means and 1 stds for 2 channels/);
    expect(() => randomCrop(1)(tensor([[1, 2]]))).toThrow(/randomCrop: expects a float32 batch \[N, C, H, W\], got f32\[1,2\]/);
    const both = values(compose(randomHorizontalFlip(1), normalize([0, 0], [0.5, 0.5]))(batch.t));
    expectAllClose(both, flipped.map((v) => v / 0.5), 1e-6);
  });
});
