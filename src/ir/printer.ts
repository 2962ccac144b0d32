// The IR text format, printing side: a Function becomes the text that parser.ts reads back exactly.
// It is the export format and the format of golden tests, so every choice here is deterministic.
//
//   func @name(%x: f32[3,4], %arg1: i32[]) -> (f32[3,4]) {
//     %0 = add %x, %x : f32[3,4]
//     %1, %2 = cond %p, %0 : f32[3,4], f32[] loc("model.ts:3:5") {
//     ^(%3: f32[3,4]):
//       yield %3, %y
//     } {
//     ^(%4: f32[3,4]):
//       ...
//     }
//     return %1
//   }
//
// Op line: results `=` prim operands, then `{attrs}` (keys sorted, omitted when empty), `:` result
// types (`()` when none), an optional `loc("...")`, then one `{ ^(params): ops yield ... }` per region.
import { KilnError } from './error.js';
import { DTYPES, SHORT_NAME } from './dtype.js';
import type { DType } from './dtype.js';
import type { Block, Function, Op, Value } from './function.js';
import { typeToString } from './shape.js';

/** Words that parse as something other than a string, so string attributes spelling them are quoted. */
const RESERVED_WORDS = new Set(['true', 'false', 'nan', 'inf', ...Object.values(SHORT_NAME)]);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Fallback parameter names; a user name that looks like one could collide, so it is not kept. */
const ARG_NAME = /^arg[0-9]+$/;

/** Whether `name` can be printed as `%name` (unique in the function is checked separately). */
export function isValidValueName(name: string): boolean {
  return IDENT.test(name) && !ARG_NAME.test(name);
}

/** A number exactly as `Number()` reads it back, with the specials JSON cannot spell. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  // String() is the shortest text that round-trips a double (1e-45, 9007199254740993 -> ...992, 1e+21).
  return String(x);
}

function formatKey(key: string): string {
  return IDENT.test(key) ? key : JSON.stringify(key);
}

/** One attribute value: numbers, dtypes as short names, bare words, booleans, lists, records. */
export function formatAttrValue(v: unknown, where = 'attribute'): string {
  switch (typeof v) {
    case 'number':
      return formatNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      if ((DTYPES as readonly string[]).includes(v)) return SHORT_NAME[v as DType];
      return IDENT.test(v) && !RESERVED_WORDS.has(v) ? v : JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => formatAttrValue(x, where)).join(',')}]`;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return formatAttrValue(Array.from(v as unknown as ArrayLike<number>), where);
      if (v !== null && Object.getPrototypeOf(v) === Object.prototype) return formatAttrs(v as Record<string, unknown>, where);
      break;
    }
  }
  throw new KilnError(`printFunction: ${where} has a value that the IR text cannot hold: ${String(v)}`);
}

/** `{a=1, b=[2,3]}` with keys in code-unit order; undefined entries count as absent. */
export function formatAttrs(attrs: Record<string, unknown>, where = 'attribute'): string {
  const keys = Object.keys(attrs)
    .filter((k) => attrs[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${formatKey(k)}=${formatAttrValue(attrs[k], `${where} ${k}`)}`).join(', ')}}`;
}

/**
 * Text names for every value defined in `fn`, in text order: function parameters keep a valid name
 * that no other parameter (of the function or of any region) uses, else `%argN` by position; region
 * parameters keep such a name too, else they share the `%0, %1, ...` sequence with op results.
 * Values read but defined nowhere are absent (the printer shows them as `%?<id>`).
 */
export function nameValues(fn: Function): Map<Value, string> {
  const counts = new Map<string, number>();
  const countParams = (b: Block): void => {
    for (const p of b.params) if (p.name !== undefined) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    for (const op of b.ops) op.regions.forEach(countParams);
  };
  countParams(fn.body);
  const keeps = (v: Value) => v.name !== undefined && counts.get(v.name) === 1 && isValidValueName(v.name);

  const names = new Map<Value, string>();
  let next = 0;
  const define = (v: Value, fallback?: string) => {
    if (names.has(v)) return; // defined twice: the verifier says so; the text shows one name
    names.set(v, keeps(v) ? v.name! : (fallback ?? String(next++)));
  };
  const walk = (b: Block): void => {
    for (const op of b.ops) {
      op.results.forEach((v) => define(v));
      for (const r of op.regions) {
        r.params.forEach((v) => define(v));
        walk(r);
      }
    }
  };
  fn.body.params.forEach((v, i) => define(v, `arg${i}`));
  walk(fn.body);
  return names;
}

class Printer {
  private readonly lines: string[] = [];
  constructor(private readonly names: Map<Value, string>) {}

  ref(v: Value): string {
    const n = this.names.get(v);
    return n === undefined ? `%?${v.id}` : `%${n}`;
  }

  param(v: Value): string {
    return `${this.ref(v)}: ${typeToString(v.type)}`;
  }

  op(op: Op, indent: string): void {
    const lhs = op.results.length ? `${op.results.map((v) => this.ref(v)).join(', ')} = ` : '';
    const operands = op.operands.length ? ` ${op.operands.map((v) => this.ref(v)).join(', ')}` : '';
    const hasAttrs = Object.keys(op.attrs).some((k) => op.attrs[k] !== undefined);
    const attrs = hasAttrs ? ` ${formatAttrs(op.attrs, `${op.prim} attribute`)}` : '';
    const types = op.results.length ? op.results.map((v) => typeToString(v.type)).join(', ') : '()';
    const loc = op.loc !== undefined ? ` loc(${JSON.stringify(op.loc)})` : '';
    const opens = op.regions.length ? ' {' : '';
    this.lines.push(`${indent}${lhs}${op.prim}${operands}${attrs} : ${types}${loc}${opens}`);
    op.regions.forEach((r, i) => {
      this.lines.push(`${indent}^(${r.params.map((p) => this.param(p)).join(', ')}):`);
      this.block(r, `${indent}  `, 'yield');
      this.lines.push(i === op.regions.length - 1 ? `${indent}}` : `${indent}} {`);
    });
  }

  block(b: Block, indent: string, terminator: 'return' | 'yield'): void {
    for (const op of b.ops) this.op(op, indent);
    const results = b.results.length ? ` ${b.results.map((v) => this.ref(v)).join(', ')}` : '';
    this.lines.push(`${indent}${terminator}${results}`);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

function formatFunctionName(name: string): string {
  return IDENT.test(name) ? `@${name}` : `@${JSON.stringify(name)}`;
}

/** The whole function as text, ending with a newline. */
export function printFunction(fn: Function): string {
  const p = new Printer(nameValues(fn));
  const params = fn.body.params.map((v) => p.param(v)).join(', ');
  const results = fn.body.results.map((v) => typeToString(v.type)).join(', ');
  const head = `func ${formatFunctionName(fn.name)}(${params}) -> (${results}) {`;
  p.block(fn.body, '  ', 'return');
  return `${head}\n${p.text()}\n}\n`;
}

/**
 * One block on its own (for dumps and error messages), named as it would be inside `fn`
 * when given, else as if it were a function body of its own.
 */
export function printBlock(block: Block, fn?: Function): string {
  const p = new Printer(nameValues(fn ?? { name: 'block', body: block }));
  const head = `^(${block.params.map((v) => p.param(v)).join(', ')}):`;
  p.block(block, '  ', 'yield');
  return `${head}\n${p.text()}\n`;
}
