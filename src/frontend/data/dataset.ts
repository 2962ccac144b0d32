// Datasets: indexable collections of samples. TensorDataset keeps host copies so a whole batch
// is gathered in one typed-array pass instead of one tensor op per sample.
import type { DType, TypedArray } from '../../ir/dtype.js';
import { allocArray } from '../../ir/dtype.js';
import { hostArray } from '../../ir/array.js';
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { defaultDevice } from '../trace.js';

export interface Dataset<T = unknown> {
  readonly length: number;
  get(index: number): T;
  /** Optional fast path: the collated batch for these indices. */
  getBatch?(indices: Int32Array): T;
}

/** A dense host array: what datasets hold before batches become tensors. */
export interface HostColumn {
  dtype: DType;
  /** Shape of the whole column; dimension 0 indexes samples. */
  shape: number[];
  data: TypedArray;
}

function sampleSize(col: HostColumn): number {
  return col.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Gathers rows `indices` of a column into a fresh tensor of shape [indices.length, ...]. */
export function gatherRows(col: HostColumn, indices: Int32Array, device = defaultDevice()): Tensor {
  const per = sampleSize(col);
  const out = allocArray(col.dtype, indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (r < 0 || r >= col.shape[0]) throw new KilnError(`Dataset: index ${r} is out of range for ${col.shape[0]} samples`);
    out.set(col.data.subarray(r * per, (r + 1) * per), i * per);
  }
  return Tensor._fromHost(hostArray(col.dtype, [indices.length, ...col.shape.slice(1)], out), device);
}

/** Samples are rows of equally long columns (e.g. images and labels), like torch's TensorDataset. */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly columns: HostColumn[];
  readonly length: number;

  constructor(...columns: (Tensor | HostColumn)[]) {
    if (columns.length === 0) throw new KilnError('TensorDataset: needs at least one column');
    this.columns = columns.map((c) => (c instanceof Tensor ? { dtype: c.dtype, shape: [...c.shape], data: c.dataSync() } : c));
    for (const c of this.columns) {
      if (c.shape.length === 0) throw new KilnError('TensorDataset: columns need a leading sample dimension, got a scalar');
    }
    this.length = this.columns[0].shape[0];
    this.columns.forEach((c, i) => {
      if (c.shape[0] !== this.length) throw new KilnError(`TensorDataset: column ${i} has ${c.shape[0]} samples, column 0 has ${this.length}`);
    });
  }

  get(index: number): Tensor[] {
    return this.getBatch(Int32Array.of(index)).map((t) => t.reshape(t.shape.slice(1)));
  }

  getBatch(indices: Int32Array): Tensor[] {
    return this.columns.map((c) => gatherRows(c, indices));
  }
}
