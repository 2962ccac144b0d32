// simplify: golden IR (text in, text out) for constant folding and each identity rule.
import { describe, expect, it } from 'vitest';
import { simplify } from '../../src/passes/simplify.js';
import { dce } from '../../src/passes/dce.js';
import { rewrite } from './helpers.js';

// dce after simplify so the golden text shows only what is left.
const run = (text: string) => rewrite((fn) => dce(simplify(fn)), text);

describe('simplify: identities', () => {
  it('drops x*1, 1*x, x+0, x-0, x/1 and x**1', () => {
    expect(run(`func @f(%x: f32[3]) -> (f32[3]) {
  %one = constant {dtype=f32, shape=[3], value=[1]} : f32[3]
  %zero = constant {dtype=f32, shape=[3], value=[0]} : f32[3]
  %a = mul %x, %one : f32[3]
  %b = mul %one, %a : f32[3]
  %c = add %b, %zero : f32[3]
  %d = sub %c, %zero : f32[3]
  %e = div %d, %one : f32[3]
  %g = pow %e, %one : f32[3]
  return %g
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[3]) -> (f32[3]) {
    return %x
  }
  "
`);
  });

  it('x*0 and x-x become zeros for ints only (floats have nan and inf)', () => {
    expect(run(`func @f(%i: i32[2], %x: f32[2]) -> (i32[2], i32[2], f32[2], f32[2]) {
  %zi = constant {dtype=i32, shape=[2], value=[0]} : i32[2]
  %zf = constant {dtype=f32, shape=[2], value=[0]} : f32[2]
  %a = mul %i, %zi : i32[2]
  %b = sub %i, %i : i32[2]
  %c = mul %x, %zf : f32[2]
  %d = sub %x, %x : f32[2]
  return %a, %b, %c, %d
}`)).toMatchInlineSnapshot(`
  "func @f(%i: i32[2], %x: f32[2]) -> (i32[2], i32[2], f32[2], f32[2]) {
    %0 = constant {dtype=i32, shape=[2], value=[0]} : i32[2]
    %1 = constant {dtype=f32, shape=[2], value=[0]} : f32[2]
    %2 = constant {dtype=i32, shape=[2], value=[0]} : i32[2]
    %3 = mul %x, %1 : f32[2]
    %4 = sub %x, %x : f32[2]
    return %0, %2, %3, %4
  }
  "
`);
  });

  it('removes double negation and double not, and turns x * -1 into neg x', () => {
    expect(run(`func @f(%x: f32[2], %p: bool[2]) -> (f32[2], bool[2], f32[2]) {
  %a = neg %x : f32[2]
  %b = neg %a : f32[2]
  %q = not %p : bool[2]
  %r = not %q : bool[2]
  %m = constant {dtype=f32, shape=[2], value=[-1]} : f32[2]
  %c = mul %x, %m : f32[2]
  return %b, %r, %c
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[2], %p: bool[2]) -> (f32[2], bool[2], f32[2]) {
    %0 = neg %x : f32[2]
    return %x, %p, %0
  }
  "
`);
  });

  it('composes transposes, reshapes and broadcasts, and removes identity movement', () => {
    expect(run(`func @f(%x: f32[2,3,4], %v: f32[3]) -> (f32[2,3,4], f32[4,2,3], f32[6,4], f32[2,3,4], f32[5,2,3]) {
  %t1 = transpose %x {perm=[2,0,1]} : f32[4,2,3]
  %t2 = transpose %t1 {perm=[1,2,0]} : f32[2,3,4]
  %u1 = transpose %x {perm=[1,0,2]} : f32[3,2,4]
  %u2 = transpose %u1 {perm=[2,1,0]} : f32[4,2,3]
  %r1 = reshape %x {shape=[24]} : f32[24]
  %r2 = reshape %r1 {shape=[6,4]} : f32[6,4]
  %s = slice %x {limit=[2,3,4], start=[0,0,0], stride=[1,1,1]} : f32[2,3,4]
  %b1 = broadcast %v {dims=[1], shape=[2,3]} : f32[2,3]
  %b2 = broadcast %b1 {dims=[1,2], shape=[5,2,3]} : f32[5,2,3]
  return %t2, %u2, %r2, %s, %b2
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[2,3,4], %v: f32[3]) -> (f32[2,3,4], f32[4,2,3], f32[6,4], f32[2,3,4], f32[5,2,3]) {
    %0 = transpose %x {perm=[2,0,1]} : f32[4,2,3]
    %1 = reshape %x {shape=[6,4]} : f32[6,4]
    %2 = broadcast %v {dims=[2], shape=[5,2,3]} : f32[5,2,3]
    return %x, %0, %1, %x, %2
  }
  "
`);
  });

  it('canonicalizes shape ops that keep the element order into reshapes', () => {
    expect(run(`func @f(%x: f32[3,1,4], %v: f32[4]) -> (f32[1,3,4], f32[3,4], f32[1,4,1]) {
  %t = transpose %x {perm=[1,0,2]} : f32[1,3,4]
  %r = reduce_sum %x {axes=[1]} : f32[3,4]
  %b = broadcast %v {dims=[1], shape=[1,4,1]} : f32[1,4,1]
  return %t, %r, %b
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[3,1,4], %v: f32[4]) -> (f32[1,3,4], f32[3,4], f32[1,4,1]) {
    %0 = reshape %x {shape=[1,3,4]} : f32[1,3,4]
    %1 = reshape %x {shape=[3,4]} : f32[3,4]
    %2 = reshape %v {shape=[1,4,1]} : f32[1,4,1]
    return %0, %1, %2
  }
  "
`);
  });

  it('broadcasts straight from a keepdims reduction (reshape that only adds size-1 dims)', () => {
    expect(run(`func @f(%x: f32[4,6]) -> (f32[4,6]) {
  %0 = reduce_max %x {axes=[1]} : f32[4]
  %1 = reshape %0 {shape=[4,1]} : f32[4,1]
  %2 = broadcast %1 {dims=[0,1], shape=[4,6]} : f32[4,6]
  return %2
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[4,6]) -> (f32[4,6]) {
    %0 = reduce_max %x {axes=[1]} : f32[4]
    %1 = broadcast %0 {dims=[0], shape=[4,6]} : f32[4,6]
    return %1
  }
  "
`);
  });

  it('drops casts to the same dtype, selects on constant predicates and selects of equal branches', () => {
    expect(run(`func @f(%x: f32[2], %y: f32[2], %p: bool[2]) -> (f32[2], f32[2], f32[2]) {
  %c = cast %x {dtype=f32} : f32[2]
  %t = constant {dtype=bool, shape=[2], value=[1]} : bool[2]
  %a = select %t, %c, %y : f32[2]
  %b = select %p, %y, %y : f32[2]
  %m = max %a, %a : f32[2]
  return %a, %b, %m
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[2], %y: f32[2], %p: bool[2]) -> (f32[2], f32[2], f32[2]) {
    return %x, %y, %x
  }
  "
`);
  });

  it('reads through a transpose into dot_general', () => {
    expect(run(`func @f(%x: f32[4,3], %w: f32[4,5]) -> (f32[3,5]) {
  %t = transpose %x {perm=[1,0]} : f32[3,4]
  %y = dot_general %t, %w {batch=[[],[]], contract=[[1],[0]]} : f32[3,5]
  return %y
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[4,3], %w: f32[4,5]) -> (f32[3,5]) {
    %0 = dot_general %x, %w {batch=[[],[]], contract=[[0],[0]]} : f32[3,5]
    return %0
  }
  "
`);
  });

  it('turns a transpose of a dot_general into the dot_general with its operands swapped (single reader only)', () => {
    expect(run(`func @f(%g: f32[8,3], %h: f32[8,5]) -> (f32[5,3], f32[3,5], f32[5,3]) {
  %0 = dot_general %g, %h {batch=[[],[]], contract=[[0],[0]]} : f32[3,5]
  %1 = transpose %0 {perm=[1,0]} : f32[5,3]
  %2 = dot_general %h, %g {batch=[[],[]], contract=[[0],[0]]} : f32[5,3]
  %3 = transpose %2 {perm=[1,0]} : f32[3,5]
  %4 = transpose %3 {perm=[1,0]} : f32[5,3]
  return %1, %3, %4
}`)).toMatchInlineSnapshot(`
  "func @f(%g: f32[8,3], %h: f32[8,5]) -> (f32[5,3], f32[3,5], f32[5,3]) {
    %0 = dot_general %h, %g {batch=[[],[]], contract=[[0],[0]]} : f32[5,3]
    %1 = dot_general %g, %h {batch=[[],[]], contract=[[0],[0]]} : f32[3,5]
    %2 = transpose %1 {perm=[1,0]} : f32[5,3]
    return %0, %1, %2
  }
  "
`);
  });

  it('keeps exp(log x) and log(exp x): they are not exact in floating point', () => {
    const text = `func @f(%x: f32[2]) -> (f32[2], f32[2]) {
  %0 = log %x : f32[2]
  %1 = exp %0 : f32[2]
  %2 = exp %x : f32[2]
  %3 = log %2 : f32[2]
  return %1, %3
}
`;
    expect(run(text)).toBe(text);
  });
});

describe('simplify: constant folding', () => {
  it('folds splats of any size and small constants, and broadcasts of scalar constants', () => {
    expect(run(`func @f(%x: f32[1000]) -> (f32[1000], i32[3], f32[2,2]) {
  %a = constant {dtype=f32, shape=[1000], value=[2]} : f32[1000]
  %b = constant {dtype=f32, shape=[1000], value=[3]} : f32[1000]
  %c = mul %a, %b : f32[1000]
  %d = add %x, %c : f32[1000]
  %i = constant {dtype=i32, shape=[3], value=[1,2,3]} : i32[3]
  %j = constant {dtype=i32, shape=[3], value=[10,20,30]} : i32[3]
  %k = add %i, %j : i32[3]
  %s = constant {dtype=f32, shape=[], value=[1.5]} : f32[]
  %e = exp %s : f32[]
  %bb = broadcast %e {dims=[], shape=[2,2]} : f32[2,2]
  return %d, %k, %bb
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[1000]) -> (f32[1000], i32[3], f32[2,2]) {
    %0 = constant {dtype=f32, shape=[1000], value=[6]} : f32[1000]
    %1 = add %x, %0 : f32[1000]
    %2 = constant {dtype=i32, shape=[3], value=[11,22,33]} : i32[3]
    %3 = constant {dtype=f32, shape=[2,2], value=[4.481688976287842]} : f32[2,2]
    return %1, %2, %3
  }
  "
`);
  });

  it('leaves large non-splat results unfolded', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1).join(',');
    const out = run(`func @f() -> (f32[100]) {
  %a = constant {dtype=f32, shape=[100], value=[${values}]} : f32[100]
  %b = neg %a : f32[100]
  return %b
}`);
    expect(out).toContain('neg');
  });

  it('folds comparisons and a select they feed', () => {
    expect(run(`func @f(%x: f32[2], %y: f32[2]) -> (f32[2]) {
  %a = constant {dtype=f32, shape=[], value=[1]} : f32[]
  %b = constant {dtype=f32, shape=[], value=[2]} : f32[]
  %p = lt %a, %b : bool[]
  %q = broadcast %p {dims=[], shape=[2]} : bool[2]
  %r = select %q, %x, %y : f32[2]
  return %r
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[2], %y: f32[2]) -> (f32[2]) {
    return %x
  }
  "
`);
  });
});

describe('simplify: regions', () => {
  it('rewrites inside cond regions, seeing constants of the enclosing block', () => {
    expect(run(`func @f(%p: bool[], %x: f32[2]) -> (f32[2]) {
  %one = constant {dtype=f32, shape=[2], value=[1]} : f32[2]
  %r = cond %p, %x : f32[2] {
  ^(%a: f32[2]):
    %b = mul %a, %one : f32[2]
    %c = neg %b : f32[2]
    %d = neg %c : f32[2]
    yield %d
  } {
  ^(%e: f32[2]):
    %f = add %e, %e : f32[2]
    yield %f
  }
  return %r
}`)).toMatchInlineSnapshot(`
  "func @f(%p: bool[], %x: f32[2]) -> (f32[2]) {
    %0 = cond %p, %x : f32[2] {
    ^(%a: f32[2]):
      yield %a
    } {
    ^(%e: f32[2]):
      %1 = add %e, %e : f32[2]
      yield %1
    }
    return %0
  }
  "
`);
  });
});
