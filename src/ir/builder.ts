// Builder: appends ops to a block, inferring result types from the op table as it goes.
import { fail } from './error.js';
import type { Block, Function, Op, Value } from './function.js';
import { newValue } from './function.js';
import { Attrs, Primitive, inferTypes, AnyAttrs } from './ops.js';
import type { TensorType } from './shape.js';
import type { DType } from './dtype.js';

export class Builder {
  readonly params: Value[] = [];
  readonly ops: Op[] = [];

  /** Adds a block parameter of the given type. */
  param(type: TensorType, name?: string): Value {
    const v = newValue({ dtype: type.dtype, shape: [...type.shape] }, name);
    this.params.push(v);
    return v;
  }

  /** Appends `prim` and returns its results; the op table checks operands and attributes. */
  op<P extends Primitive>(prim: P, operands: readonly Value[], attrs: Attrs<P>, regions: readonly Block[] = [], loc?: string): Value[] {
    const types = inferTypes(prim, operands.map((v) => v.type), attrs, regions);
    const results = types.map((ty) => newValue(ty));
    const op: Op = { prim, operands: [...operands], attrs: attrs as AnyAttrs, results, regions: [...regions], ...(loc ? { loc } : {}) };
    this.ops.push(op);
    return results;
  }

  /** Shorthand for single-result ops. */
  op1<P extends Primitive>(prim: P, operands: readonly Value[], attrs: Attrs<P>, regions: readonly Block[] = [], loc?: string): Value {
    return this.op(prim, operands, attrs, regions, loc)[0];
  }

  constant(value: number | number[], dtype: DType, shape: number[] = []): Value {
    return this.op1('constant', [], { value: typeof value === 'number' ? [value] : value, dtype, shape });
  }

  block(results: readonly Value[]): Block {
    return { params: [...this.params], ops: [...this.ops], results: [...results] };
  }

  finish(name: string, results: readonly Value[]): Function {
    if (!name) fail('Builder', 'a function needs a name');
    return { name, body: this.block(results) };
  }
}
