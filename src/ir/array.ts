// HostArray: a dense row-major array in a typed array, what the interpreter and device uploads use.
import { DType, TypedArray, allocArray } from './dtype.js';
import { Shape, sizeOf } from './shape.js';
import { fail } from './error.js';

export interface HostArray {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data: TypedArray;
}

export function hostArray(dtype: DType, shape: Shape, data?: TypedArray | ArrayLike<number>): HostArray {
  const n = sizeOf(shape);
  const arr = allocArray(dtype, n);
  if (data !== undefined) {
    if (data.length !== n && data.length !== 1) fail('hostArray', `${data.length} values for shape [${shape.join(',')}]`);
    if (data.length === 1 && n !== 1) arr.fill(Number(data[0]));
    else arr.set(data as ArrayLike<number>);
  }
  return { dtype, shape: [...shape], data: arr };
}
