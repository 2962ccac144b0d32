// The verifier: checks that a Function is well formed before passes and backends trust it, and
// says which op is wrong, with its operand types. Also the attribute schema of every primitive.
//
// The contract it establishes (what the interpreter and passes may assume):
// - every value is defined exactly once: a function/region parameter or one op's result;
// - an operand, or a block result, is a value defined earlier in the same block or in an enclosing
//   block before the op that owns the region (regions capture by lexical scope, as in MLIR), so one
//   environment of values, extended while walking the blocks in order, evaluates any Function;
// - an op's own results are not visible inside its regions;
// - operand count, region count, attributes and result types agree with the op table.
import { KilnError } from './error.js';
import { isDType } from './dtype.js';
import type { Block, Function, Op, Value } from './function.js';
import { AnyAttrs, Attrs, FUSION_KINDS, Primitive, inferTypes, isPrimitive, opRow, BINARY_OPS, UNARY_OPS, REDUCE_OPS } from './ops.js';
import { TensorType, shapeEqual, typeToString } from './shape.js';
import { formatAttrValue, nameValues } from './printer.js';

// ---- attribute schema -----------------------------------------------------------------------------

/**
 * What an attribute holds: `int`/`nat` (non-negative), lists of them, any `number`s, a `dtype`, a
 * `bool`, `pads` ([low, high] integer pairs), `dimPairs` ([lhs dims, rhs dims]) or one of some words.
 */
export type AttrKind = 'int' | 'nat' | 'ints' | 'nats' | 'numbers' | 'number' | 'dtype' | 'bool' | 'pads' | 'dimPairs' | readonly string[];

type Schema<P extends Primitive> = { readonly [K in keyof Attrs<P>]-?: AttrKind };
const none = <T extends readonly string[]>(names: T) => Object.fromEntries(names.map((n) => [n, {}])) as { [K in T[number]]: Record<string, never> };
const axes = <T extends readonly string[]>(names: T) => Object.fromEntries(names.map((n) => [n, { axes: 'ints' }])) as { [K in T[number]]: { axes: 'ints' } };

/** Every primitive's attributes and their kinds; typed by AttrMap, so a new attribute must be listed. */
export const ATTR_SCHEMA: { readonly [P in Primitive]: Schema<P> } = {
  ...none(UNARY_OPS),
  ...none(BINARY_OPS),
  ...axes(REDUCE_OPS),
  constant: { value: 'numbers', dtype: 'dtype', shape: 'nats' },
  iota: { shape: 'nats', dimension: 'nat', dtype: 'dtype' },
  cast: { dtype: 'dtype' },
  select: {},
  argmax: { axis: 'int' },
  argmin: { axis: 'int' },
  reshape: { shape: 'nats' },
  broadcast: { shape: 'nats', dims: 'nats' },
  transpose: { perm: 'nats' },
  slice: { start: 'ints', limit: 'ints', stride: 'ints' },
  pad: { low: 'ints', high: 'ints', interior: 'ints', value: 'number' },
  concat: { axis: 'int' },
  flip: { axes: 'ints' },
  dot_general: { contract: 'dimPairs', batch: 'dimPairs' },
  conv: { stride: 'ints', padding: 'pads', lhsDilation: 'ints', rhsDilation: 'ints', groups: 'int' },
  reduce_window: { kind: ['max', 'sum'], window: 'nats', stride: 'ints', padding: 'pads' },
  gather: { axis: 'int' },
  scatter_add: { axis: 'int' },
  random_bits: { shape: 'nats' },
  fusion: { kind: FUSION_KINDS },
  cond: {},
  while: {},
  scan: { length: 'nat', numCarry: 'nat', reverse: 'bool' },
};

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);
const isNat = (x: unknown): x is number => isInt(x) && x >= 0;
const listOf = (x: unknown, ok: (y: unknown) => boolean) => Array.isArray(x) && x.every(ok);

const KIND_OK: Record<Exclude<AttrKind, readonly string[]>, (x: unknown) => boolean> = {
  int: isInt,
  nat: isNat,
  ints: (x) => listOf(x, isInt),
  nats: (x) => listOf(x, isNat),
  number: (x) => typeof x === 'number',
  numbers: (x) => listOf(x, (y) => typeof y === 'number'),
  dtype: isDType,
  bool: (x) => typeof x === 'boolean',
  pads: (x) => listOf(x, (p) => listOf(p, isInt) && (p as unknown[]).length === 2),
  dimPairs: (x) => listOf(x, (p) => listOf(p, isNat)) && (x as unknown[]).length === 2,
};
const KIND_TEXT: Record<Exclude<AttrKind, readonly string[]>, string> = {
  int: 'an integer',
  nat: 'a non-negative integer',
  ints: 'a list of integers',
  nats: 'a list of non-negative integers',
  number: 'a number',
  numbers: 'a list of numbers',
  dtype: 'a dtype (f32, f64, i32, bool)',
  bool: 'true or false',
  pads: 'a list of [low, high] integer pairs',
  dimPairs: 'a pair of dimension lists [[...], [...]]',
};

function show(x: unknown): string {
  try {
    return formatAttrValue(x);
  } catch {
    return String(x);
  }
}

/** What is wrong with `attrs` for `prim` (missing, unknown or ill-kinded attributes), or undefined. */
export function checkAttrs(prim: Primitive, attrs: AnyAttrs): string | undefined {
  const schema = ATTR_SCHEMA[prim] as Record<string, AttrKind>;
  const names = Object.keys(schema);
  for (const k of Object.keys(attrs)) {
    if (attrs[k] === undefined) continue;
    if (!Object.hasOwn(schema, k)) return `unknown attribute ${k} (${prim} takes ${names.length ? names.join(', ') : 'no attributes'})`;
  }
  for (const k of names) {
    const kind = schema[k];
    const v = attrs[k];
    if (v === undefined) return `missing attribute ${k}`;
    if (typeof kind !== 'string') {
      if (!(kind as readonly unknown[]).includes(v)) return `attribute ${k} must be one of ${kind.join(', ')}, got ${show(v)}`;
    } else if (!KIND_OK[kind](v)) return `attribute ${k} must be ${KIND_TEXT[kind]}, got ${show(v)}`;
  }
  // Rules index these lists together; a length mismatch would read past the end.
  if (prim === 'reduce_window') {
    const { window, stride, padding } = attrs as Attrs<'reduce_window'>;
    if (stride.length !== window.length || padding.length !== window.length) return `window, stride and padding must have one entry per windowed dimension`;
  }
  return undefined;
}

// ---- the verifier ---------------------------------------------------------------------------------

function wellFormedType(t: TensorType | undefined): boolean {
  return t !== undefined && isDType(t.dtype) && Array.isArray(t.shape) && t.shape.every(isNat);
}
function typesText(ts: readonly TensorType[]): string {
  return ts.map((t) => (wellFormedType(t) ? typeToString(t) : JSON.stringify(t))).join(', ');
}

/** Where a value was first defined: the block and a readable path. */
interface Definition {
  readonly block: Block;
  readonly path: string;
}

class Verifier {
  private readonly names: Map<Value, string>;
  /** First definition of every value, found before checking so errors can say where a value lives. */
  private readonly definitions = new Map<Value, Definition>();
  private readonly seen = new Set<Value>();
  private readonly ids = new Map<number, Value>();

  constructor(private readonly fn: Function) {
    this.names = nameValues(fn);
    this.collect(fn.body, `@${fn.name}`);
  }

  private collect(block: Block, path: string): void {
    const def = (v: Value, where: string) => {
      if (!this.definitions.has(v)) this.definitions.set(v, { block, path: where });
    };
    block.params.forEach((v, i) => def(v, `${path} parameter ${i}`));
    block.ops.forEach((op, i) => {
      op.regions.forEach((r, j) => this.collect(r, `${path}/op ${i}/region ${j}`));
      op.results.forEach((v) => def(v, `${path}/op ${i}`));
    });
  }

  private name(v: Value): string {
    const n = this.names.get(v);
    return n === undefined ? `%?${v.id}` : `%${n}`;
  }

  private fail(path: string, msg: string, op?: Op): never {
    if (!op) throw new KilnError(`verify: ${path}: ${msg}`);
    const ins = op.operands.map((v) => v?.type);
    const loc = op.loc ? ` [${op.loc}]` : '';
    throw new KilnError(`verify: ${op.prim}(${typesText(ins)}) at ${path}: ${msg}${loc}`);
  }

  /** Records a definition, refusing a value defined twice or two values sharing an id. */
  private define(v: Value, path: string, what: string, op?: Op): void {
    if (!v || typeof v !== 'object') this.fail(path, `${what} is not a value`, op);
    if (!wellFormedType(v.type)) this.fail(path, `${what} ${this.name(v)} has a malformed type ${JSON.stringify(v.type)}`, op);
    if (this.seen.has(v)) this.fail(path, `${what} ${this.name(v)} is defined twice (first at ${this.definitions.get(v)!.path})`, op);
    const other = this.ids.get(v.id);
    if (other !== undefined) this.fail(path, `${what} ${this.name(v)} shares id ${v.id} with ${this.name(other)}`, op);
    this.seen.add(v);
    this.ids.set(v.id, v);
  }

  /** Why `v` is not readable here, given the blocks enclosing the use (innermost last). */
  private unreadable(v: Value, enclosing: readonly Block[], op?: Op): string {
    if (op?.results.includes(v)) return `is this op's own result`;
    const def = this.definitions.get(v);
    if (!def) return `is not defined anywhere in @${this.fn.name}`;
    if (enclosing.includes(def.block)) return `is used before its definition (at ${def.path})`;
    return `comes from an unrelated block (defined at ${def.path}); a region may only read values of the blocks around it`;
  }

  block(block: Block, path: string, visible: Set<Value>, enclosing: Block[]): void {
    const scope = new Set(visible);
    const blocks = [...enclosing, block];
    block.params.forEach((v, i) => {
      this.define(v, path, `parameter ${i}`);
      scope.add(v);
    });
    block.ops.forEach((op, i) => {
      const at = `${path}/op ${i}`;
      this.op(op, at, scope, blocks);
      op.results.forEach((v) => scope.add(v));
    });
    block.results.forEach((v, i) => {
      if (!v || !scope.has(v)) {
        const what = enclosing.length ? 'yield' : 'return';
        this.fail(path, `${what} value ${i} ${v ? this.name(v) : String(v)} ${v ? this.unreadable(v, blocks) : 'is not a value'}`);
      }
    });
  }

  private op(op: Op, at: string, scope: Set<Value>, blocks: Block[]): void {
    if (!op || typeof op !== 'object' || !isPrimitive(String(op.prim))) this.fail(at, `unknown op ${JSON.stringify(op?.prim)} (not in the op table)`);
    op.operands.forEach((v, j) => {
      if (!v || typeof v !== 'object') this.fail(at, `operand ${j} is not a value`, op);
      if (!scope.has(v)) this.fail(at, `operand ${j} ${this.name(v)}: ${typeToStringSafe(v.type)} ${this.unreadable(v, blocks, op)}`, op);
    });
    const row = opRow(op.prim);
    if (row.arity >= 0 && op.operands.length !== row.arity) this.fail(at, `expects ${row.arity} operand(s), got ${op.operands.length}`, op);
    if (op.regions.length !== row.regions) this.fail(at, `expects ${row.regions} region(s), got ${op.regions.length}`, op);
    const problem = checkAttrs(op.prim, op.attrs ?? {});
    if (problem) this.fail(at, problem, op);
    // Regions first, so an error inside one points at the innermost op. They see what the op sees.
    op.regions.forEach((r, j) => this.block(r, `${at}/region ${j}`, scope, blocks));

    let inferred: TensorType[];
    try {
      inferred = inferTypes(op.prim, op.operands.map((v) => v.type), op.attrs as Attrs<Primitive>, op.regions);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const prefix = `${op.prim}: `;
      this.fail(at, e instanceof KilnError ? (msg.startsWith(prefix) ? msg.slice(prefix.length) : msg) : `malformed op (${msg})`, op);
    }
    const got = op.results.map((v) => v?.type);
    const agree = inferred.length === got.length && inferred.every((t, k) => wellFormedType(got[k]) && t.dtype === got[k].dtype && shapeEqual(t.shape, got[k].shape));
    if (!agree) this.fail(at, `results have types (${typesText(got)}) but the op table infers (${typesText(inferred)})`, op);
    op.results.forEach((v, k) => this.define(v, at, `result ${k}`, op));
  }
}

function typeToStringSafe(t: TensorType | undefined): string {
  return wellFormedType(t) ? typeToString(t!) : JSON.stringify(t);
}

/** Throws a KilnError naming the op, its operand types and the problem; returns if `fn` is well formed. */
export function verify(fn: Function): void {
  new Verifier(fn).block(fn.body, `@${fn.name}`, new Set(), []);
}

/**
 * Verifies one block as a function body would be, except that it may also read `captures` (the
 * values of enclosing blocks it is allowed to see), e.g. a region checked on its own by a pass.
 */
export function verifyBlock(block: Block, captures: Iterable<Value> = [], name = 'block'): void {
  new Verifier({ name, body: block }).block(block, `@${name}`, new Set(captures), []);
}
