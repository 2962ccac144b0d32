// The runtime's output tensor: a dense host array with the same reading API as kiln's Tensor
// (`await t.data()`, `dataSync()`, `tolist()`), so code reading outputs works with either.
import type { DType, TypedArray } from '../ir/dtype.js';
import type { HostArray } from '../ir/array.js';
import { sizeOf, typeToString } from '../ir/shape.js';

export type NestedValues = number | boolean | NestedValues[];

export class RuntimeTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The output's name in the artifact's signature. */
  readonly name: string;
  private readonly values: TypedArray;

  constructor(name: string, a: HostArray) {
    this.name = name;
    this.dtype = a.dtype;
    this.shape = Object.freeze([...a.shape]);
    this.values = a.data;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  /** A fresh copy of the values (async like kiln's Tensor, whose data may live on a GPU). */
  async data(): Promise<TypedArray> {
    return this.values.slice();
  }

  dataSync(): TypedArray {
    return this.values.slice();
  }

  tolist(): NestedValues {
    const conv = (v: number): number | boolean => (this.dtype === 'bool' ? v !== 0 : v);
    const build = (dim: number, offset: number, stride: number): NestedValues => {
      if (dim === this.shape.length) return conv(this.values[offset]);
      const inner = stride / (this.shape[dim] || 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * inner, inner));
    };
    return build(0, 0, this.size);
  }

  describe(): string {
    return typeToString(this);
  }
}
