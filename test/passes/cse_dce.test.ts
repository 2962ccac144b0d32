// cse and dce: golden IR, including regions (cond) and the purity of random_bits.
import { describe, expect, it } from 'vitest';
import { cse } from '../../src/passes/cse.js';
import { dce } from '../../src/passes/dce.js';
import { rewrite } from './helpers.js';

describe('cse', () => {
  it('merges equal ops, commuted operands and equal constants; keeps different attributes apart', () => {
    expect(rewrite((fn) => dce(cse(fn)), `func @f(%x: f32[2,3], %y: f32[2,3]) -> (f32[2,3], f32[3,2], f32[3,2]) {
  %a = add %x, %y : f32[2,3]
  %b = add %y, %x : f32[2,3]
  %c = mul %a, %b : f32[2,3]
  %k1 = constant {dtype=f32, shape=[2,3], value=[2]} : f32[2,3]
  %k2 = constant {dtype=f32, shape=[2,3], value=[2]} : f32[2,3]
  %d = sub %c, %k1 : f32[2,3]
  %e = sub %c, %k2 : f32[2,3]
  %f = add %d, %e : f32[2,3]
  %t1 = transpose %f {perm=[1,0]} : f32[3,2]
  %t2 = transpose %f {perm=[1,0]} : f32[3,2]
  %s1 = reduce_sum %x {axes=[0]} : f32[3]
  %s2 = reduce_sum %x {axes=[1]} : f32[2]
  %u = broadcast %s1 {dims=[0], shape=[3,2]} : f32[3,2]
  %v = broadcast %s2 {dims=[1], shape=[3,2]} : f32[3,2]
  %w = add %u, %v : f32[3,2]
  return %f, %t2, %w
}`)).toMatchInlineSnapshot(`
  "func @f(%x: f32[2,3], %y: f32[2,3]) -> (f32[2,3], f32[3,2], f32[3,2]) {
    %0 = add %x, %y : f32[2,3]
    %1 = mul %0, %0 : f32[2,3]
    %2 = constant {dtype=f32, shape=[2,3], value=[2]} : f32[2,3]
    %3 = sub %1, %2 : f32[2,3]
    %4 = add %3, %3 : f32[2,3]
    %5 = transpose %4 {perm=[1,0]} : f32[3,2]
    %6 = reduce_sum %x {axes=[0]} : f32[3]
    %7 = reduce_sum %x {axes=[1]} : f32[2]
    %8 = broadcast %6 {dims=[0], shape=[3,2]} : f32[3,2]
    %9 = broadcast %7 {dims=[1], shape=[3,2]} : f32[3,2]
    %10 = add %8, %9 : f32[3,2]
    return %4, %5, %10
  }
  "
`);
  });

  it('merges random_bits with the same key (counter-based, so pure) and keeps -0 apart from 0', () => {
    expect(rewrite(cse, `func @f(%key: i32[2]) -> (i32[4], i32[4], f32[], f32[]) {
  %a = random_bits %key {shape=[4]} : i32[4]
  %b = random_bits %key {shape=[4]} : i32[4]
  %z = constant {dtype=f32, shape=[], value=[0]} : f32[]
  %n = constant {dtype=f32, shape=[], value=[-0]} : f32[]
  return %a, %b, %z, %n
}`)).toMatchInlineSnapshot(`
  "func @f(%key: i32[2]) -> (i32[4], i32[4], f32[], f32[]) {
    %0 = random_bits %key {shape=[4]} : i32[4]
    %1 = constant {dtype=f32, shape=[], value=[0]} : f32[]
    %2 = constant {dtype=f32, shape=[], value=[-0]} : f32[]
    return %0, %0, %1, %2
  }
  "
`);
  });

  it('works inside regions, each with its own table', () => {
    expect(rewrite(cse, `func @f(%p: bool[], %x: f32[2]) -> (f32[2], f32[2]) {
  %o = exp %x : f32[2]
  %r = cond %p, %x : f32[2] {
  ^(%a: f32[2]):
    %b = exp %a : f32[2]
    %c = exp %a : f32[2]
    %d = add %b, %c : f32[2]
    yield %d
  } {
  ^(%e: f32[2]):
    yield %e
  }
  return %r, %o
}`)).toMatchInlineSnapshot(`
  "func @f(%p: bool[], %x: f32[2]) -> (f32[2], f32[2]) {
    %0 = exp %x : f32[2]
    %1 = cond %p, %x : f32[2] {
    ^(%a: f32[2]):
      %2 = exp %a : f32[2]
      %3 = add %2, %2 : f32[2]
      yield %3
    } {
    ^(%e: f32[2]):
      yield %e
    }
    return %1, %0
  }
  "
`);
  });
});

describe('dce', () => {
  it('removes unread ops, inside regions too, and keeps what regions capture', () => {
    expect(rewrite(dce, `func @f(%p: bool[], %x: f32[2]) -> (f32[2]) {
  %dead = exp %x : f32[2]
  %k = neg %x : f32[2]
  %r = cond %p, %x : f32[2] {
  ^(%a: f32[2]):
    %unused = sin %a : f32[2]
    %b = mul %a, %k : f32[2]
    yield %b
  } {
  ^(%e: f32[2]):
    yield %e
  }
  %dead2 = cos %r : f32[2]
  return %r
}`)).toMatchInlineSnapshot(`
  "func @f(%p: bool[], %x: f32[2]) -> (f32[2]) {
    %0 = neg %x : f32[2]
    %1 = cond %p, %x : f32[2] {
    ^(%a: f32[2]):
      %2 = mul %a, %0 : f32[2]
      yield %2
    } {
    ^(%e: f32[2]):
      yield %e
    }
    return %1
  }
  "
`);
  });
});
