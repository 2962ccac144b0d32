// The IR text format: golden texts, exact round trips over random programs that use every primitive,
// and parse errors (always a KilnError at line:col, never a hang) on truncated and mutated text.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Builder } from '../../src/ir/builder.js';
import { KilnError } from '../../src/ir/error.js';
import type { Block, Function, Value } from '../../src/ir/function.js';
import { PRIMITIVES } from '../../src/ir/ops.js';
import { formatNumber, isValidValueName, nameValues, printBlock, printFunction } from '../../src/ir/printer.js';
import { parseFunction } from '../../src/ir/parser.js';
import { verify } from '../../src/ir/verify.js';
import { Tape, functionWith, randomFunction } from './printer_random.js';

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
const bool = (...shape: number[]) => ({ dtype: 'bool' as const, shape });
const i32 = (...shape: number[]) => ({ dtype: 'int32' as const, shape });

/** A Function as plain data with values numbered in traversal order, so two Functions compare with toEqual. */
function normalize(fn: Function): unknown {
  const ids = new Map<Value, number>();
  const names = nameValues(fn);
  const id = (v: Value) => {
    if (!ids.has(v)) ids.set(v, ids.size);
    return ids.get(v)!;
  };
  const param = (v: Value) => ({ id: id(v), type: v.type, name: v.name !== undefined && isValidValueName(v.name) && names.get(v) === v.name ? v.name : undefined });
  const block = (b: Block): unknown => ({
    params: b.params.map(param),
    ops: b.ops.map((op) => ({
      prim: op.prim,
      operands: op.operands.map(id),
      attrs: op.attrs,
      regions: op.regions.map(block),
      results: op.results.map((v) => ({ id: id(v), type: v.type })),
      loc: op.loc,
    })),
    results: b.results.map(id),
  });
  return { name: fn.name, body: block(fn.body) };
}

function roundTrip(fn: Function): string {
  const text = printFunction(fn);
  const back = parseFunction(text);
  expect(printFunction(back)).toBe(text);
  expect(normalize(back)).toEqual(normalize(fn));
  verify(back);
  return text;
}

function mlp(): Function {
  const b = new Builder();
  const x = b.param(f32(128, 784), 'x');
  const w1 = b.param(f32(784, 512), 'w1');
  const b1 = b.param(f32(512), 'b1');
  const h = b.op1('dot_general', [x, w1], { contract: [[1], [0]], batch: [[], []] });
  const bb = b.op1('broadcast', [b1], { shape: [128, 512], dims: [1] });
  const s = b.op1('add', [h, bb], {});
  const zero = b.op1('broadcast', [b.constant(0, 'float32')], { shape: [128, 512], dims: [] });
  return b.finish('mlp', [b.op1('max', [s, zero], {})]);
}

describe('printFunction: golden text', () => {
  it('prints a straight-line function with sorted attributes and named parameters', () => {
    expect(roundTrip(mlp())).toMatchInlineSnapshot(`
      "func @mlp(%x: f32[128,784], %w1: f32[784,512], %b1: f32[512]) -> (f32[128,512]) {
        %0 = dot_general %x, %w1 {batch=[[],[]], contract=[[1],[0]]} : f32[128,512]
        %1 = broadcast %b1 {dims=[1], shape=[128,512]} : f32[128,512]
        %2 = add %0, %1 : f32[128,512]
        %3 = constant {dtype=f32, shape=[], value=[0]} : f32[]
        %4 = broadcast %3 {dims=[], shape=[128,512]} : f32[128,512]
        %5 = max %2, %4 : f32[128,512]
        return %5
      }
      "
    `);
  });

  it('prints cond regions with their parameters, captures and a loc', () => {
    const b = new Builder();
    const p = b.param(bool(), 'p');
    const x = b.param(f32(3), 'x');
    const k = b.constant(2, 'float32');
    const then = new Builder();
    const t0 = then.param(f32(3));
    const tk = then.op1('broadcast', [k], { shape: [3], dims: [] }); // k is captured from the function body
    const els = new Builder();
    const e0 = els.param(f32(3));
    const [r, s] = b.op('cond', [p, x], {}, [then.block([then.op1('mul', [t0, tk], {}), k]), els.block([e0, k])], 'model.ts:12:9');
    expect(roundTrip(b.finish('branchy', [r, s]))).toMatchInlineSnapshot(`
      "func @branchy(%p: bool[], %x: f32[3]) -> (f32[3], f32[]) {
        %0 = constant {dtype=f32, shape=[], value=[2]} : f32[]
        %1, %2 = cond %p, %x : f32[3], f32[] loc("model.ts:12:9") {
        ^(%3: f32[3]):
          %4 = broadcast %0 {dims=[], shape=[3]} : f32[3]
          %5 = mul %3, %4 : f32[3]
          yield %5, %0
        } {
        ^(%6: f32[3]):
          yield %6, %0
        }
        return %1, %2
      }
      "
    `);
  });

  it('prints while (cond and body regions) and scan (carry, xs, ys, reverse)', () => {
    const b = new Builder();
    const n = b.param(i32());
    const xs = b.param(f32(5, 2));
    const c = new Builder();
    const ci = c.param(i32(), 'i');
    const cond = c.block([c.op1('lt', [ci, n], {})]);
    const body = new Builder();
    const bi = body.param(i32(), 'j');
    const step = body.block([body.op1('add', [bi, body.constant(1, 'int32')], {})]);
    const [count] = b.op('while', [b.constant(0, 'int32')], {}, [cond, step]);
    const s = new Builder();
    const acc = s.param(f32(2), 'acc');
    const row = s.param(f32(2), 'row');
    const next = s.op1('add', [acc, row], {});
    const [total, partials] = b.op('scan', [b.constant([0, 0], 'float32', [2]), xs], { length: 5, numCarry: 1, reverse: true }, [s.block([next, next])]);
    expect(roundTrip(b.finish('loops', [count, total, partials]))).toMatchInlineSnapshot(`
      "func @loops(%arg0: i32[], %arg1: f32[5,2]) -> (i32[], f32[2], f32[5,2]) {
        %0 = constant {dtype=i32, shape=[], value=[0]} : i32[]
        %1 = while %0 : i32[] {
        ^(%i: i32[]):
          %2 = lt %i, %arg0 : bool[]
          yield %2
        } {
        ^(%j: i32[]):
          %3 = constant {dtype=i32, shape=[], value=[1]} : i32[]
          %4 = add %j, %3 : i32[]
          yield %4
        }
        %5 = constant {dtype=f32, shape=[2], value=[0,0]} : f32[2]
        %6, %7 = scan %5, %arg1 {length=5, numCarry=1, reverse=true} : f32[2], f32[5,2] {
        ^(%acc: f32[2], %row: f32[2]):
          %8 = add %acc, %row : f32[2]
          yield %8, %8
        }
        return %1, %6, %7
      }
      "
    `);
  });

  it('prints exact numbers, dtypes as short names, quoted odd strings and names, and result-less ops', () => {
    const b = new Builder();
    const a = b.param(f32(2), 'a');
    const dup1 = b.param(f32(), 'dup');
    const dup2 = b.param(f32(), 'dup'); // not unique: both fall back to %argN
    const bad = b.param(f32(), 'arg7'); // looks like a fallback name: not kept
    const c = b.op1('constant', [], { value: [NaN, Infinity, -Infinity, -0, 1e-45, 2 ** 53 + 2, 0.1], dtype: 'float64', shape: [7] });
    const padded = b.op1('pad', [a], { low: [1], high: [-1], interior: [2], value: -Infinity });
    const empty = new Builder();
    const noResults = b.op('cond', [b.op1('isnan', [dup1], {})], {}, [empty.block([]), new Builder().block([])]);
    expect(noResults).toEqual([]);
    const fn = b.finish('odd name', [c, padded, dup2, bad]);
    expect(roundTrip(fn)).toMatchInlineSnapshot(`
      "func @"odd name"(%a: f32[2], %arg1: f32[], %arg2: f32[], %arg3: f32[]) -> (f64[7], f32[4], f32[], f32[]) {
        %0 = constant {dtype=f64, shape=[7], value=[nan,inf,-inf,-0,1e-45,9007199254740994,0.1]} : f64[7]
        %1 = pad %a {high=[-1], interior=[2], low=[1], value=-inf} : f32[4]
        %2 = isnan %arg1 : bool[]
        cond %2 : () {
        ^():
          yield
        } {
        ^():
          yield
        }
        return %0, %1, %arg2, %arg3
      }
      "
    `);
  });

  it('prints a fusion kernel and conv/reduce_window attributes (pairs, words)', () => {
    const b = new Builder();
    const x = b.param(f32(1, 2, 5, 5), 'x');
    const w = b.param(f32(4, 1, 3, 3), 'w');
    const y = b.op1('conv', [x, w], { stride: [2, 2], padding: [[1, 1], [0, 1]], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 2 });
    const k = new Builder();
    const kp = k.param(y.type);
    const body = k.block([k.op1('relu', [kp], {})]);
    const z = b.op1('fusion', [y], { kind: 'elementwise' }, [body]);
    const pooled = b.op1('reduce_window', [z], { kind: 'max', window: [2, 2], stride: [1, 1], padding: [[0, 0], [0, 0]] });
    expect(roundTrip(b.finish('cnn', [pooled]))).toMatchInlineSnapshot(`
      "func @cnn(%x: f32[1,2,5,5], %w: f32[4,1,3,3]) -> (f32[1,4,2,1]) {
        %0 = conv %x, %w {groups=2, lhsDilation=[1,1], padding=[[1,1],[0,1]], rhsDilation=[1,1], stride=[2,2]} : f32[1,4,3,2]
        %1 = fusion %0 {kind=elementwise} : f32[1,4,3,2] {
        ^(%2: f32[1,4,3,2]):
          %3 = relu %2 : f32[1,4,3,2]
          yield %3
        }
        %4 = reduce_window %1 {kind=max, padding=[[0,0],[0,0]], stride=[1,1], window=[2,2]} : f32[1,4,2,1]
        return %4
      }
      "
    `);
  });

  it('prints one block on its own', () => {
    const b = new Builder();
    const v = b.param(f32(2), 'v');
    expect(printBlock(b.block([b.op1('neg', [v], {})]))).toMatchInlineSnapshot(`
      "^(%v: f32[2]):
        %0 = neg %v : f32[2]
        yield %0
      "
    `);
  });
});

describe('text format: numbers and attribute values', () => {
  it('formats every double so Number() reads it back exactly', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        const text = formatNumber(x);
        const back = text === 'nan' ? NaN : text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
        expect(Object.is(back, x)).toBe(true);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('round-trips any double, string and nesting inside attributes (through a pad value and a constant)', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 6 }), (values) => {
        const b = new Builder();
        const c = b.op1('constant', [], { value: values, dtype: 'float64', shape: [values.length] });
        const p = b.op1('pad', [c], { low: [0], high: [0], interior: [0], value: values[0] });
        roundTrip(b.finish('nums', [p]));
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('keeps -0 apart from 0 and NaN equal to NaN in the parsed attributes', () => {
    const b = new Builder();
    const c = b.op1('constant', [], { value: [-0, NaN], dtype: 'float32', shape: [2] });
    const back = parseFunction(printFunction(b.finish('z', [c])));
    const value = back.body.ops[0].attrs.value as number[];
    expect(Object.is(value[0], -0)).toBe(true);
    expect(Number.isNaN(value[1])).toBe(true);
    expect(back.body.ops[0].attrs.dtype).toBe('float32');
  });
});

describe('parse(print(f)) round trip', () => {
  it('covers every primitive of the op table', () => {
    for (const prim of PRIMITIVES) {
      for (let seed = 0; seed < 12; seed++) {
        // A deterministic tape per (prim, seed): a simple LCG, varied enough to vary the attributes.
        let s = seed * 7919 + prim.length * 104729 + 1;
        const tape = new Tape(Array.from({ length: 400 }, () => (s = (s * 1103515245 + 12345) % 2147483648)));
        const fn = functionWith(prim, tape);
        const text = roundTrip(fn);
        expect(text).toMatch(new RegExp(`(^|\\n) *(%\\w+(, %\\w+)* = )?${prim}[ \\n]`));
      }
    }
  });

  it('is exact for random well-typed programs with nested regions', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(fc.nat(1_000_000), { minLength: 100, maxLength: 400 }), (xs) => {
        const fn = randomFunction(new Tape(xs));
        verify(fn);
        const text = roundTrip(fn);
        for (const m of text.matchAll(/(?:= |^ *)([a-z_0-9]+) /gm)) seen.add(m[1]);
      }),
      { numRuns: 400, seed: 42 },
    );
    // Uniform draws over the table: with this many runs every primitive shows up somewhere.
    expect(PRIMITIVES.filter((p) => !seen.has(p))).toEqual([]);
  });
});

/** Runs the parser on possibly broken text: it may succeed, else it must throw a KilnError. */
function parsesOrKilnError(text: string): void {
  try {
    const fn = parseFunction(text);
    // Whatever parses is well formed and prints to text that parses to the same thing.
    verify(fn);
    const again = printFunction(fn);
    expect(printFunction(parseFunction(again))).toBe(again);
  } catch (e) {
    if (!(e instanceof KilnError)) throw new Error(`non-KilnError on input:\n${text}\n${String(e)}`);
    expect(e.message).toMatch(/^parseFunction: (\d+:\d+: |malformed input)/);
  }
}

describe('parseFunction: errors', () => {
  const sample = () => printFunction(randomFunction(new Tape(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) * 2654435761 % 1000003))));

  it('rejects every truncation of a program with a KilnError', () => {
    const text = printFunction(mlp()) + sample();
    const one = printFunction(mlp());
    for (let n = 0; n < one.length; n++) parsesOrKilnError(one.slice(0, n));
    for (let n = 0; n < text.length; n += 3) parsesOrKilnError(text.slice(0, n));
    expect(() => parseFunction(one.slice(0, one.length - 2))).toThrow(KilnError);
  });

  it('never throws anything but a KilnError on mutated text', () => {
    const base = [sample(), printFunction(mlp())];
    const piece = fc.constantFrom('%', '{', '}', '[', ']', '(', ')', ',', ':', '=', '-', '"', '\\', '^', '@', '.', 'a', '0', '9', '\n', ' ',
      'e', '1e999', '-inf', 'nan', 'loc(', 'yield', 'return', 'f32', 'cond', '%0', '%arg0', '\u0000', '\u{1F525}', '[[[[', '{a=');
    const edit = fc.record({ at: fc.nat(), del: fc.nat(4), ins: fc.array(piece, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.nat(1), fc.array(edit, { minLength: 1, maxLength: 4 }), (which, edits) => {
        let text = base[which];
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.ins.join('') + text.slice(at + e.del);
        }
        parsesOrKilnError(text);
      }),
      { numRuns: 1500, seed: 3 },
    );
  });

  it('never throws anything but a KilnError on arbitrary text', () => {
    const prefix = fc.constantFrom('', 'func @f(', 'func @f(%x: f32[2]) -> (f32[2]) {\n  %0 = ', 'func @f() -> () {\n  %0 = constant {');
    fc.assert(
      fc.property(prefix, fc.string({ unit: 'binary', maxLength: 60 }), (p, s) => parsesOrKilnError(p + s)),
      { numRuns: 1000, seed: 9 },
    );
  });

  it('says where and what was expected', () => {
    const err = (text: string) => {
      try {
        parseFunction(text);
      } catch (e) {
        expect(e).toBeInstanceOf(KilnError);
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    expect(err('func @f() -> () {\n  return\n')).toBe("parseFunction: 3:1: expected '}' closing the function, got end of input");
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = frobnicate %x : f32[3]\n  return %0\n}')).toBe(
      "parseFunction: 2:8: unknown op 'frobnicate' (not in the op table)",
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %y : f32[3]\n  return %0\n}')).toMatch(/^parseFunction: 2:12: value %y is not defined here/);
    expect(err('func @f(%x: f32[3]) -> (f32[4]) {\n  %0 = neg %x : f32[4]\n  return %0\n}')).toBe(
      'parseFunction: 2:8: neg(f32[3]): the text gives result types (f32[4]) but the op table infers (f32[3])',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = add %x, %x : f32[3]\n  %0 = neg %x : f32[3]\n  return %0\n}')).toBe(
      'parseFunction: 3:3: value %0 is defined twice',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = add %x : f32[3]\n  return %0\n}')).toBe(
      'parseFunction: 2:8: add: expects 2 operand(s), got 1',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = reshape %x {shape=[3], extra=1} : f32[3]\n  return %0\n}')).toBe(
      'parseFunction: 2:8: reshape(f32[3]): unknown attribute extra (reshape takes shape)',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = reshape %x {shape=[x]} : f32[3]\n  return %0\n}')).toBe(
      'parseFunction: 2:8: reshape(f32[3]): attribute shape must be a list of non-negative integers, got [x]',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %x : f32[3] loc("unterminated)\n  return %0\n}')).toBe(
      'parseFunction: 2:28: unterminated or malformed string',
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = neg %x : f32[3]\n  yield %0\n}')).toBe(
      "parseFunction: 3:3: expected 'return' (a function ends with return), got 'yield'",
    );
    expect(err('func @f(%x: f32[3]) -> (f32[3]) {\n  return %x\n} trailing')).toBe(
      "parseFunction: 3:3: expected end of input after the function, got 'trailing'",
    );
    expect(err('func @f(%x: f32[-1]) -> () {\n  return\n}')).toBe("parseFunction: 1:17: expected a dimension (a non-negative integer), got '-1'");
  });

  it('keeps a region from reading its own op results or values of a sibling region', () => {
    const own = 'func @f(%p: bool[]) -> () {\n  %0 = cond %p : bool[] {\n  ^():\n    yield %0\n  } {\n  ^():\n    yield %p\n  }\n  return\n}';
    expect(() => parseFunction(own)).toThrow(/4:11: value %0 is not defined here/);
    const sibling = 'func @f(%p: bool[]) -> () {\n  cond %p : () {\n  ^():\n    %1 = not %p : bool[]\n    yield\n  } {\n  ^():\n    %2 = not %1 : bool[]\n    yield\n  }\n  return\n}';
    expect(() => parseFunction(sibling)).toThrow(/8:14: value %1 is not defined here/);
  });

  it('fails cleanly, without a stack overflow or a hang, on absurd nesting and sizes', () => {
    const deepList = `func @f() -> () {\n  %0 = constant {dtype=f32, shape=[], value=${'['.repeat(100_000)}0${']'.repeat(100_000)}} : f32[]\n  return\n}`;
    expect(() => parseFunction(deepList)).toThrow(/nesting deeper than/);
    const deepRegions = `func @f(%p: bool[]) -> () {\n${'  cond %p : () {\n  ^():\n'.repeat(5000)}`;
    expect(() => parseFunction(deepRegions)).toThrow(KilnError);
    expect(() => parseFunction('func @f(%x: f32[99999999999999999999]) -> () {\n  return\n}')).toThrow(KilnError);
    expect(() => parseFunction('func @f() -> () {\n  %0 = iota {dimension=0, dtype=f32, shape=[1e300]} : f32[1]\n  return\n}')).toThrow(KilnError);
    expect(() => parseFunction('func @f() -> () {\n  %0 = constant {"__proto__"={}, dtype=f32, shape=[], value=[1]} : f32[]\n  return\n}')).toThrow(
      /unknown attribute __proto__/,
    );
    expect(() => parseFunction(42 as unknown as string)).toThrow(KilnError);
  });
});
