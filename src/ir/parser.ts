// The IR text format, reading side: the exact inverse of printer.ts. Ops are rebuilt through the op
// table (its rule must infer the printed result types); any malformed text is a KilnError at line:col.
import { KilnError } from './error.js';
import { FROM_SHORT_NAME } from './dtype.js';
import type { Block, Function, Op, Value } from './function.js';
import { newValue } from './function.js';
import { AnyAttrs, Attrs, Primitive, inferTypes, isPrimitive } from './ops.js';
import { TensorType, shapeEqual, typeToString } from './shape.js';
import { isValidValueName } from './printer.js';
import { checkAttrs } from './verify.js';

// ---- tokens ---------------------------------------------------------------------------------------

type TokenKind = 'value' | 'func' | 'word' | 'number' | 'string' | 'punct' | 'eof';
interface Token {
  readonly kind: TokenKind;
  /** value/func: the name without sigil; word, punct: the text; string: the decoded string. */
  readonly text: string;
  readonly num?: number;
  readonly line: number;
  readonly col: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NAME = /[A-Za-z0-9_?]+/y;
const NUMBER = /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
// Exactly JSON's string grammar, so JSON.parse decodes it and never throws.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const PUNCT = '()[]{},:=^';

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'value': return `'%${t.text}'`;
    case 'func': return `'@${t.text}'`;
    case 'string': return JSON.stringify(t.text);
    default: return `'${t.text}'`;
  }
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const err = (msg: string): never => {
    throw new KilnError(`parseFunction: ${line}:${i - lineStart + 1}: ${msg}`);
  };
  const match = (re: RegExp, at: number): string | undefined => {
    re.lastIndex = at;
    return re.exec(src)?.[0];
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    const push = (kind: TokenKind, text: string, len: number, num?: number) => {
      out.push(num === undefined ? { kind, text, line, col } : { kind, text, num, line, col });
      i += len;
    };
    if (c === '%') {
      const name = match(NAME, i + 1) ?? err("expected a value name after '%'");
      push('value', name, name.length + 1);
    } else if (c === '@') {
      if (src[i + 1] === '"') {
        const s = match(STRING, i + 1) ?? err('unterminated or malformed function name string');
        push('func', JSON.parse(s) as string, s.length + 1);
      } else {
        const name = match(WORD, i + 1) ?? err("expected a function name after '@'");
        push('func', name, name.length + 1);
      }
    } else if (c === '"') {
      const s = match(STRING, i) ?? err('unterminated or malformed string');
      push('string', JSON.parse(s) as string, s.length);
    } else if (c === '-' && src[i + 1] === '>') {
      push('punct', '->', 2);
    } else if (c === '-' && src.startsWith('-inf', i) && !/[A-Za-z0-9_]/.test(src[i + 4] ?? '')) {
      push('number', '-inf', 4, -Infinity);
    } else if (/[0-9.-]/.test(c)) {
      const s = match(NUMBER, i) ?? err(`unexpected character '${c}'`);
      push('number', s, s.length, Number(s));
    } else if (/[A-Za-z_]/.test(c)) {
      const w = match(WORD, i)!;
      push('word', w, w.length);
    } else if (PUNCT.includes(c)) {
      push('punct', c, 1);
    } else {
      err(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return out;
}

// ---- parser ---------------------------------------------------------------------------------------

/** Deep enough for any real program, shallow enough to stay far from the JS stack limit. */
const MAX_DEPTH = 200;

/** Lexical scopes: a region sees its own values and those of the blocks around it. */
class Scope {
  private readonly values = new Map<string, Value>();
  constructor(readonly parent?: Scope) {}
  get(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.get(name);
  }
  set(name: string, v: Value): void {
    this.values.set(name, v);
  }
}

class Parser {
  private pos = 0;
  private depth = 0;
  /** Every name defined anywhere: the printer never reuses one, so the parser does not accept it. */
  private readonly defined = new Set<string>();

  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.pos];
  }
  private next(): Token {
    const t = this.toks[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private errorAt(t: Token, msg: string): never {
    throw new KilnError(`parseFunction: ${t.line}:${t.col}: ${msg}`);
  }
  private expected(what: string, t = this.peek()): never {
    this.errorAt(t, `expected ${what}, got ${describe(t)}`);
  }
  private isPunct(p: string, t = this.peek()): boolean {
    return t.kind === 'punct' && t.text === p;
  }
  private eatPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.pos++;
    return true;
  }
  private expectPunct(p: string, what = `'${p}'`): Token {
    if (!this.isPunct(p)) this.expected(what);
    return this.next();
  }
  private expectWord(w: string): Token {
    const t = this.peek();
    if (t.kind !== 'word' || t.text !== w) this.expected(`'${w}'`);
    return this.next();
  }
  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) this.errorAt(t, `nesting deeper than ${MAX_DEPTH} levels`);
  }

  // -- types and values --

  private type(): TensorType {
    const t = this.peek();
    const dtype = t.kind === 'word' ? FROM_SHORT_NAME[t.text] : undefined;
    if (dtype === undefined || !Object.hasOwn(FROM_SHORT_NAME, t.text)) this.expected('a type such as f32[3,4]');
    this.next();
    this.expectPunct('[', `'[' after the dtype ${t.text}`);
    const shape: number[] = [];
    if (!this.isPunct(']')) {
      do {
        const d = this.peek();
        if (d.kind !== 'number' || !Number.isSafeInteger(d.num) || !/^[0-9]+$/.test(d.text)) this.expected('a dimension (a non-negative integer)');
        shape.push(this.next().num!);
      } while (this.eatPunct(','));
    }
    this.expectPunct(']', "',' or ']' in the shape");
    return { dtype, shape };
  }

  private typeList(): TensorType[] {
    if (this.eatPunct('(')) {
      this.expectPunct(')', "')' (an op without results is written ': ()')");
      return [];
    }
    const out = [this.type()];
    while (this.eatPunct(',')) out.push(this.type());
    return out;
  }

  /** Defines a value name (params and results); `%argN`/numbers are the printer's, not user names. */
  private define(scope: Scope, tok: Token, type: TensorType): Value {
    if (tok.text.includes('?')) this.errorAt(tok, `'%${tok.text}' is a value the printer found undefined; it cannot be defined`);
    if (this.defined.has(tok.text)) this.errorAt(tok, `value %${tok.text} is defined twice`);
    this.defined.add(tok.text);
    const v = newValue({ dtype: type.dtype, shape: [...type.shape] }, isValidValueName(tok.text) ? tok.text : undefined);
    scope.set(tok.text, v);
    return v;
  }

  private use(scope: Scope): Value {
    const t = this.peek();
    if (t.kind !== 'value') this.expected('a value such as %0');
    this.next();
    return scope.get(t.text) ?? this.errorAt(t, `value %${t.text} is not defined here (a value is visible after its definition, in its block and the regions inside it)`);
  }

  private valueList(scope: Scope): Value[] {
    if (this.peek().kind !== 'value') return [];
    const out = [this.use(scope)];
    while (this.eatPunct(',')) out.push(this.use(scope));
    return out;
  }

  private params(scope: Scope): Value[] {
    this.expectPunct('(');
    const out: Value[] = [];
    if (!this.isPunct(')')) {
      do {
        const name = this.peek();
        if (name.kind !== 'value') this.expected('a parameter such as %x: f32[3]');
        this.next();
        this.expectPunct(':', `':' after parameter %${name.text}`);
        out.push(this.define(scope, name, this.type()));
      } while (this.eatPunct(','));
    }
    this.expectPunct(')', "',' or ')' after a parameter");
    return out;
  }

  // -- attributes --

  private attrValue(): unknown {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return t.num;
      case 'string':
        this.next();
        return t.text;
      case 'word':
        this.next();
        if (t.text === 'true') return true;
        if (t.text === 'false') return false;
        if (t.text === 'nan') return NaN;
        if (t.text === 'inf') return Infinity;
        return Object.hasOwn(FROM_SHORT_NAME, t.text) ? FROM_SHORT_NAME[t.text] : t.text;
      case 'punct':
        if (t.text === '[') {
          this.enter(t);
          this.next();
          const out: unknown[] = [];
          if (!this.isPunct(']')) {
            do out.push(this.attrValue());
            while (this.eatPunct(','));
          }
          this.expectPunct(']', "',' or ']' in a list");
          this.depth--;
          return out;
        }
        if (t.text === '{') return this.attrDict();
    }
    this.expected('an attribute value (number, word, string, list or {record})');
  }

  private attrDict(): AnyAttrs {
    const open = this.expectPunct('{');
    this.enter(open);
    // A null prototype so keys such as __proto__ are plain data, never the object's prototype.
    const out: AnyAttrs = Object.create(null) as AnyAttrs;
    if (!this.isPunct('}')) {
      do {
        const k = this.peek();
        if (k.kind !== 'word' && k.kind !== 'string') this.expected('an attribute name');
        this.next();
        if (Object.hasOwn(out, k.text)) this.errorAt(k, `attribute ${k.text} is given twice`);
        this.expectPunct('=', `'=' after attribute ${k.text}`);
        out[k.text] = this.attrValue();
      } while (this.eatPunct(','));
    }
    this.expectPunct('}', "',' or '}' after an attribute");
    this.depth--;
    return { ...out };
  }

  // -- ops and blocks --

  private op(scope: Scope): Op {
    const start = this.peek();
    const resultToks: Token[] = [];
    if (start.kind === 'value') {
      do {
        const t = this.peek();
        if (t.kind !== 'value') this.expected('a result name such as %3');
        resultToks.push(this.next());
      } while (this.eatPunct(','));
      this.expectPunct('=', "'=' after the result names");
    }
    const primTok = this.peek();
    if (primTok.kind !== 'word') this.expected('an op name');
    if (!isPrimitive(primTok.text)) this.errorAt(primTok, `unknown op '${primTok.text}' (not in the op table)`);
    this.next();
    const prim: Primitive = primTok.text;
    const operands = this.valueList(scope);
    const attrs = this.isPunct('{') ? this.attrDict() : {};
    this.expectPunct(':', `${operands.length ? "','" : 'operands'}, '{attributes}' or ':' before the result types of ${prim}`);
    const types = this.typeList();
    let loc: string | undefined;
    if (this.peek().kind === 'word' && this.peek().text === 'loc') {
      this.next();
      this.expectPunct('(', "'(' after loc");
      const s = this.peek();
      if (s.kind !== 'string') this.expected('a quoted location such as "model.ts:3:5"');
      loc = this.next().text;
      this.expectPunct(')', "')' after the location");
    }
    const regions: Block[] = [];
    while (this.isPunct('{')) regions.push(this.region(scope));

    const ins = operands.map((v) => v.type);
    const where = (msg: string) => `${prim}(${ins.map(typeToString).join(', ')}): ${msg}`;
    const problem = checkAttrs(prim, attrs);
    if (problem) this.errorAt(primTok, where(problem));
    let inferred: TensorType[];
    try {
      inferred = inferTypes(prim, ins, attrs as Attrs<typeof prim>, regions);
    } catch (e) {
      // The rule's message already names the op; anything else is a malformed attribute the rule tripped on.
      const msg = e instanceof KilnError ? e.message : where(`malformed attributes (${e instanceof Error ? e.message : String(e)})`);
      this.errorAt(primTok, msg);
    }
    const same = inferred.length === types.length && inferred.every((t, i) => t.dtype === types[i].dtype && shapeEqual(t.shape, types[i].shape));
    if (!same) {
      const show = (ts: TensorType[]) => `(${ts.map(typeToString).join(', ')})`;
      this.errorAt(primTok, where(`the text gives result types ${show(types)} but the op table infers ${show(inferred)}`));
    }
    if (resultToks.length !== types.length) this.errorAt(start, where(`${resultToks.length} result name(s) for ${types.length} result type(s)`));
    // Results are defined after the regions: a region cannot read the results of its own op.
    const results = resultToks.map((t, i) => this.define(scope, t, inferred[i]));
    return { prim, operands, attrs, results, regions, ...(loc !== undefined ? { loc } : {}) };
  }

  private body(scope: Scope, terminator: 'return' | 'yield'): { ops: Op[]; results: Value[] } {
    const ops: Op[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'word' && t.text === terminator) break;
      if (t.kind !== 'value' && t.kind !== 'word') this.expected(`an op or '${terminator}'`);
      if (t.kind === 'word' && (t.text === 'return' || t.text === 'yield')) this.expected(`'${terminator}' (a ${terminator === 'yield' ? 'region' : 'function'} ends with ${terminator})`);
      ops.push(this.op(scope));
    }
    this.next();
    const results = this.valueList(scope);
    return { ops, results };
  }

  private region(outer: Scope): Block {
    const open = this.expectPunct('{');
    this.enter(open);
    const scope = new Scope(outer);
    this.expectPunct('^', "'^(' starting the region's parameters");
    const params = this.params(scope);
    this.expectPunct(':', "':' after the region's parameters");
    const { ops, results } = this.body(scope, 'yield');
    this.expectPunct('}', "'}' closing the region");
    this.depth--;
    return { params, ops, results };
  }

  parse(): Function {
    this.expectWord('func');
    const nameTok = this.peek();
    if (nameTok.kind !== 'func') this.expected('a function name such as @f');
    this.next();
    const scope = new Scope();
    const params = this.params(scope);
    this.expectPunct('->', "'->' after the parameters");
    this.expectPunct('(', "'(' before the result types");
    const types: TensorType[] = [];
    if (!this.isPunct(')')) {
      do types.push(this.type());
      while (this.eatPunct(','));
    }
    this.expectPunct(')', "',' or ')' after a result type");
    this.expectPunct('{', "'{' opening the function body");
    const returnTok = this.toks[this.pos];
    const { ops, results } = this.body(scope, 'return');
    const got = results.map((v) => v.type);
    if (got.length !== types.length || got.some((t, i) => t.dtype !== types[i].dtype || !shapeEqual(t.shape, types[i].shape))) {
      const show = (ts: TensorType[]) => `(${ts.map(typeToString).join(', ')})`;
      this.errorAt(returnTok, `@${nameTok.text} declares results ${show(types)} but returns ${show(got)}`);
    }
    this.expectPunct('}', "'}' closing the function");
    if (this.peek().kind !== 'eof') this.expected('end of input after the function');
    return { name: nameTok.text, body: { params, ops, results } };
  }
}

/** Reads a Function printed by `printFunction`; throws a KilnError at line:col on malformed text. */
export function parseFunction(text: string): Function {
  if (typeof text !== 'string') throw new KilnError(`parseFunction: expected a string, got ${typeof text}`);
  try {
    return new Parser(tokenize(text)).parse();
  } catch (e) {
    if (e instanceof KilnError) throw e;
    // Belt and braces: nothing but a KilnError may leave the parser (e.g. a stack overflow).
    throw new KilnError(`parseFunction: malformed input (${e instanceof Error ? e.message : String(e)})`);
  }
}
