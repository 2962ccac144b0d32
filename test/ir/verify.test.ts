// The verifier: accepts well-formed Functions (captures included) and rejects each kind of broken
// one with a message naming the op, its operand types and the problem.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Builder } from '../../src/ir/builder.js';
import { KilnError } from '../../src/ir/error.js';
import type { Block, Function, Op, Value } from '../../src/ir/function.js';
import { newValue } from '../../src/ir/function.js';
import { PRIMITIVES } from '../../src/ir/ops.js';
import { ATTR_SCHEMA, checkAttrs, verify, verifyBlock } from '../../src/ir/verify.js';
import { Tape, randomFunction } from './printer_random.js';

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
const bool = (...shape: number[]) => ({ dtype: 'bool' as const, shape });

function message(fn: Function): string {
  try {
    verify(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as Error).message;
  }
  throw new Error('verify accepted the function');
}

/** x: f32[3]; %0 = neg x; %1 = add %0, x; return %1 — the raw pieces, to break on purpose. */
function simple() {
  const b = new Builder();
  const x = b.param(f32(3), 'x');
  const n = b.op1('neg', [x], {});
  const s = b.op1('add', [n, x], {});
  const fn = b.finish('f', [s]);
  return { fn, x, n, s, ops: fn.body.ops };
}
const withOps = (fn: Function, ops: readonly Op[], results: readonly Value[] = fn.body.results): Function => ({
  name: fn.name,
  body: { params: fn.body.params, ops: [...ops], results },
});

/** cond %p, %x with identity-ish branches, and a value %k defined inside the then-region. */
function branchy() {
  const b = new Builder();
  const p = b.param(bool(), 'p');
  const x = b.param(f32(3), 'x');
  const t = new Builder();
  const tp = t.param(f32(3));
  const k = t.op1('neg', [tp], {});
  const e = new Builder();
  const ep = e.param(f32(3));
  const [r] = b.op('cond', [p, x], {}, [t.block([k]), e.block([ep])]);
  return { b, p, x, k, r, fn: b.finish('g', [r]) };
}

describe('verify accepts', () => {
  it('random well-typed programs with nested regions and captures', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1_000_000), { minLength: 100, maxLength: 400 }), (xs) => {
        verify(randomFunction(new Tape(xs)));
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it('regions reading values of enclosing blocks (defined before the op), at any depth', () => {
    const b = new Builder();
    const p = b.param(bool(), 'p');
    const x = b.param(f32(3), 'x');
    const y = b.op1('neg', [x], {});
    // Each region is built afresh: a Block object shared by two regions would define its values twice.
    const innerBlock = () => {
      const inner = new Builder();
      return inner.block([inner.op1('add', [x, y], {})]);
    };
    const outerBlock = () => {
      const outer = new Builder();
      const [z] = outer.op('cond', [p], {}, [innerBlock(), innerBlock()]);
      return outer.block([z]);
    };
    const [r] = b.op('cond', [p], {}, [outerBlock(), outerBlock()]);
    expect(() => verify(b.finish('nest', [r]))).not.toThrow();
  });

  it('a block on its own, given the values it captures', () => {
    const { fn, x } = branchy();
    const cond = fn.body.ops[0];
    expect(() => verifyBlock(cond.regions[0], [], 'then')).not.toThrow();
    const b = new Builder();
    const q = b.param(f32(3));
    const capturing = b.block([b.op1('mul', [q, x], {})]);
    expect(() => verifyBlock(capturing)).toThrow(/operand 1 %\?\d+: f32\[3\] is not defined anywhere in @block/);
    expect(() => verifyBlock(capturing, [x])).not.toThrow();
  });
});

describe('verify rejects', () => {
  it('an operand used before its definition', () => {
    const { fn, ops } = simple();
    expect(message(withOps(fn, [ops[1], ops[0]]))).toBe(
      'verify: add(f32[3], f32[3]) at @f/op 0: operand 0 %1: f32[3] is used before its definition (at @f/op 1)',
    );
  });

  it('a value from an unrelated block (a region value read outside it, or by the sibling region)', () => {
    const { b, k, fn } = branchy();
    const leak = b.op1('exp', [k], {});
    const leakOp = b.ops[b.ops.length - 1]; // appended after finish(), so fn does not hold it yet
    const outside = withOps(fn, [...fn.body.ops, leakOp], [leak]);
    expect(message(outside)).toBe(
      'verify: exp(f32[3]) at @g/op 1: operand 0 %2: f32[3] comes from an unrelated block (defined at @g/op 0/region 0/op 0); a region may only read values of the blocks around it',
    );
    const cond = fn.body.ops[0];
    const elseReadsThen: Block = { params: cond.regions[1].params, ops: [], results: [k] };
    const bad: Op = { ...cond, regions: [cond.regions[0], elseReadsThen] };
    expect(message(withOps(fn, [bad]))).toBe(
      'verify: @g/op 0/region 1: yield value 0 %2 comes from an unrelated block (defined at @g/op 0/region 0/op 0); a region may only read values of the blocks around it',
    );
  });

  it('a region reading the results of its own op', () => {
    const { fn, r } = branchy();
    const cond = fn.body.ops[0];
    const selfRef: Block = { params: cond.regions[1].params, ops: [], results: [r] };
    expect(message(withOps(fn, [{ ...cond, regions: [cond.regions[0], selfRef] }]))).toBe(
      'verify: @g/op 0/region 1: yield value 0 %0 is used before its definition (at @g/op 0)',
    );
  });

  it('an operand defined nowhere, and a returned value defined nowhere', () => {
    const { fn, ops } = simple();
    const stray = newValue(f32(3));
    expect(message(withOps(fn, [ops[0], { ...ops[1], operands: [ops[0].results[0], stray] }]))).toBe(
      `verify: add(f32[3], f32[3]) at @f/op 1: operand 1 %?${stray.id}: f32[3] is not defined anywhere in @f`,
    );
    expect(message(withOps(fn, ops, [stray]))).toBe(`verify: @f: return value 0 %?${stray.id} is not defined anywhere in @f`);
  });

  it('a value defined twice, and two values sharing an id', () => {
    const { fn, ops } = simple();
    expect(message(withOps(fn, [ops[0], ops[1], ops[1]]))).toBe(
      'verify: add(f32[3], f32[3]) at @f/op 2: result 0 %1 is defined twice (first at @f/op 1)',
    );
    const twin: Value = { ...ops[0].results[0] };
    expect(message(withOps(fn, [ops[0], { ...ops[1], results: [twin] }], [twin]))).toBe(
      `verify: add(f32[3], f32[3]) at @f/op 1: result 0 %1 shares id ${twin.id} with %0`,
    );
  });

  it('one Block object used as two regions (its values would be defined twice; passes must clone)', () => {
    const b = new Builder();
    const p = b.param(bool(), 'p');
    const r = new Builder();
    const shared = r.block([r.constant(1, 'float32')]);
    const [out] = b.op('cond', [p], {}, [shared, shared]);
    expect(message(b.finish('s', [out]))).toBe(
      'verify: constant() at @s/op 0/region 1/op 0: result 0 %1 is defined twice (first at @s/op 0/region 0/op 0)',
    );
  });

  it('result types that disagree with the op table', () => {
    const { fn, ops } = simple();
    const wrong = newValue(f32(4));
    expect(message(withOps(fn, [ops[0], { ...ops[1], results: [wrong] }], [wrong]))).toBe(
      'verify: add(f32[3], f32[3]) at @f/op 1: results have types (f32[4]) but the op table infers (f32[3])',
    );
    const two = [newValue(f32(3)), newValue(f32(3))];
    expect(message(withOps(fn, [ops[0], { ...ops[1], results: two }], [two[0]]))).toMatch(/results have types \(f32\[3\], f32\[3\]\) but the op table infers \(f32\[3\]\)/);
  });

  it('wrong arity and wrong region counts', () => {
    const { fn, ops, x } = simple();
    expect(message(withOps(fn, [ops[0], { ...ops[1], operands: [x] }]))).toBe('verify: add(f32[3]) at @f/op 1: expects 2 operand(s), got 1');
    const region: Block = { params: [], ops: [], results: [] };
    expect(message(withOps(fn, [ops[0], { ...ops[1], regions: [region] }]))).toBe('verify: add(f32[3], f32[3]) at @f/op 1: expects 0 region(s), got 1');
    const g = branchy().fn;
    const cond = g.body.ops[0];
    expect(message(withOps(g, [{ ...cond, regions: [cond.regions[0]] }]))).toBe('verify: cond(bool[], f32[3]) at @g/op 0: expects 2 region(s), got 1');
  });

  it('shape errors from the op table, named with the op and its operand types', () => {
    const b = new Builder();
    const x = b.param(f32(3), 'x');
    const y = b.param(f32(4), 'y');
    const out = newValue(f32(3));
    const fn: Function = { name: 'h', body: { params: [x, y], ops: [{ prim: 'add', operands: [x, y], attrs: {}, results: [out], regions: [], loc: 'model.ts:7:3' }], results: [out] } };
    expect(message(fn)).toBe('verify: add(f32[3], f32[4]) at @h/op 0: operand shapes differ: f32[3], f32[4] [model.ts:7:3]');
  });

  it('region parameter and result types that do not fit the control-flow op', () => {
    const { fn } = branchy();
    const cond = fn.body.ops[0];
    const badElse: Block = { params: [newValue(f32(4))], ops: [], results: [cond.regions[1].results[0]] };
    expect(message(withOps(fn, [{ ...cond, regions: [cond.regions[0], badElse] }]))).toMatch(
      /^verify: @g\/op 0\/region 1: yield value 0 %\?\d+ is not defined anywhere in @g$/,
    );
    const p4 = newValue(f32(4));
    const badElse2: Block = { params: [p4], ops: [], results: [p4] };
    expect(message(withOps(fn, [{ ...cond, regions: [cond.regions[0], badElse2] }]))).toBe(
      'verify: cond(bool[], f32[3]) at @g/op 0: else region takes (f32[4]) but is given (f32[3])',
    );
  });

  it('missing, unknown and ill-kinded attributes, and unknown ops', () => {
    const { fn, ops } = simple();
    const x = fn.body.params[0];
    const r = newValue(f32(3));
    const reshape = (attrs: Record<string, unknown>): Function => withOps(fn, [{ prim: 'reshape', operands: [x], attrs, results: [r], regions: [] }], [r]);
    expect(message(reshape({}))).toBe('verify: reshape(f32[3]) at @f/op 0: missing attribute shape');
    expect(message(reshape({ shape: [3], keepdims: true }))).toBe('verify: reshape(f32[3]) at @f/op 0: unknown attribute keepdims (reshape takes shape)');
    expect(message(reshape({ shape: [1.5, 2] }))).toBe('verify: reshape(f32[3]) at @f/op 0: attribute shape must be a list of non-negative integers, got [1.5,2]');
    expect(message(reshape({ shape: 3 }))).toBe('verify: reshape(f32[3]) at @f/op 0: attribute shape must be a list of non-negative integers, got 3');
    expect(message(withOps(fn, [{ ...ops[0], attrs: { axes: [0] } }]))).toMatch(/^verify: neg\(f32\[3\]\) at @f\/op 0: unknown attribute axes \(neg takes no attributes\)/);
    expect(message(withOps(fn, [{ ...ops[0], prim: 'frob' as never }]))).toBe('verify: @f/op 0: unknown op "frob" (not in the op table)');
    expect(checkAttrs('reduce_window', { kind: 'mean', window: [2], stride: [1], padding: [[0, 0]] })).toBe('attribute kind must be one of max, sum, got mean');
    expect(checkAttrs('reduce_window', { kind: 'max', window: [2], stride: [1, 1], padding: [[0, 0]] })).toMatch(/one entry per windowed dimension/);
    expect(checkAttrs('constant', { value: [1], dtype: 'float16', shape: [] })).toMatch(/attribute dtype must be a dtype/);
    expect(checkAttrs('scan', { length: 2, numCarry: 0, reverse: 1 })).toBe('attribute reverse must be true or false, got 1');
  });

  it('malformed values (bad types) instead of crashing', () => {
    const bad = newValue({ dtype: 'float16' as never, shape: [3] });
    const fn: Function = { name: 'm', body: { params: [bad], ops: [], results: [bad] } };
    expect(message(fn)).toMatch(/^verify: @m: parameter 0 %arg0 has a malformed type/);
  });
});

describe('the attribute schema', () => {
  it('lists every primitive', () => {
    expect(Object.keys(ATTR_SCHEMA).sort()).toEqual([...PRIMITIVES].sort());
  });
});
