// AutoGraph: parses a function's source with acorn and rewrites native `if`/`while`/`for` into calls
// that become cond/whileLoop/forLoop when their conditions are tensors (one graph for all branches),
// and operators into run-time dispatching helpers (`x.sum() > 0` on a tensor becomes `gt`).
//
// Rewritten statements pass the variables they assign in and out explicitly, so each branch or loop body
// is a function of its inputs (what the structured ops need). Statements that leave their block early
// (`break`, `continue`, a `return` on only some paths) stay native: under jit they become guards.
import type * as acorn from 'acorn';
import { KilnError } from '../../ir/error.js';
import { FunctionNode, parseFunction } from './source.js';
import { runtime } from './autograph_runtime.js';

type Node = acorn.Node & Record<string, any>;

export interface AutographOptions {
  /** Values for the function's free variables (its closure), by name: the rewrite cannot reach them otherwise. */
  scope?: Record<string, unknown>;
}

const BINARY: Record<string, string> = {
  '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '===': 'seq', '!==': 'sne', '==': 'leq', '!=': 'lne',
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '**': 'pow',
};
const COMPOUND: Record<string, string> = { '+=': 'add', '-=': 'sub', '*=': 'mul', '/=': 'div', '%=': 'mod', '**=': 'pow' };

const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && typeof (x as Node).type === 'string' && typeof (x as Node).start === 'number';
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const NATIVE_TEST = new Set(['IfStatement', 'WhileStatement', 'DoWhileStatement', 'ForStatement']);
const LOOP_TYPES = new Set(['WhileStatement', 'DoWhileStatement', 'ForStatement', 'ForInStatement', 'ForOfStatement']);

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const x of v) isNode(x) && out.push(x);
    else if (isNode(v)) out.push(v);
  }
  return out.sort((a, b) => a.start - b.start);
}

// ---- scope analysis ----------------------------------------------------------------------------------

function patternNames(p: Node | null, out: Set<string>): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier': out.add(p.name); break;
    case 'ObjectPattern': for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out); break;
    case 'ArrayPattern': for (const e of p.elements) patternNames(e, out); break;
    case 'RestElement': patternNames(p.argument, out); break;
    case 'AssignmentPattern': patternNames(p.left, out); break;
  }
}

/** Names declared anywhere inside `node` (params, let/const/var, functions, classes, catch params). */
function declaredIn(node: Node): Set<string> {
  const out = new Set<string>();
  const walk = (n: Node): void => {
    if (n.type === 'VariableDeclarator') patternNames(n.id, out);
    if (FUNCTION_TYPES.has(n.type)) {
      if (n.id) out.add(n.id.name);
      for (const p of n.params) patternNames(p, out);
    }
    if ((n.type === 'ClassDeclaration' || n.type === 'ClassExpression') && n.id) out.add(n.id.name);
    if (n.type === 'CatchClause' && n.param) patternNames(n.param, out);
    children(n).forEach(walk);
  };
  walk(node);
  return out;
}

/** Identifiers used as references (not property names or labels) inside `node`. */
function referencedIn(node: Node): Set<string> {
  const out = new Set<string>();
  const walk = (n: Node, parent: Node | null, key: string): void => {
    if (n.type === 'Identifier') {
      const isPropName = parent && !parent.computed && ((parent.type === 'MemberExpression' && key === 'property') ||
        ((parent.type === 'Property' || parent.type === 'MethodDefinition' || parent.type === 'PropertyDefinition') && key === 'key'));
      const isLabel = parent && (parent.type === 'LabeledStatement' || parent.type === 'BreakStatement' || parent.type === 'ContinueStatement');
      if (!isPropName && !isLabel) out.add(n.name);
      return;
    }
    for (const k of Object.keys(n)) {
      if (k === 'loc') continue;
      const v = n[k];
      if (Array.isArray(v)) for (const x of v) isNode(x) && walk(x, n, k);
      else if (isNode(v)) walk(v, n, k);
    }
  };
  walk(node, null, '');
  return out;
}

/** Variables the statement assigns that live outside it (so they must flow in and out of a region). */
function assignedOutside(stmts: Node[]): string[] {
  const assigned = new Set<string>();
  const local = new Set<string>();
  const walk = (n: Node, inFunction: boolean): void => {
    if (FUNCTION_TYPES.has(n.type) && n !== stmts[0]) inFunction = true;
    if (!inFunction) {
      if (n.type === 'AssignmentExpression') patternNames(n.left, assigned);
      if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') assigned.add(n.argument.name);
    }
    children(n).forEach((c) => walk(c, inFunction));
  };
  for (const s of stmts) {
    walk(s, false);
    for (const d of declaredIn(s)) local.add(d);
  }
  return [...assigned].filter((v) => !local.has(v));
}

/** Whether control leaves `node` other than by falling through: return, or break/continue not bound inside. */
function escapes(node: Node): boolean {
  const walk = (n: Node, inLoop: boolean, inSwitch: boolean): boolean => {
    if (FUNCTION_TYPES.has(n.type)) return false;
    if (n.type === 'ReturnStatement' || n.type === 'ThrowStatement' || n.type === 'YieldExpression' || n.type === 'AwaitExpression') return true;
    if (n.type === 'BreakStatement') return n.label !== null || !(inLoop || inSwitch);
    if (n.type === 'ContinueStatement') return n.label !== null || !inLoop;
    const loop = inLoop || LOOP_TYPES.has(n.type);
    const sw = inSwitch || n.type === 'SwitchStatement';
    return children(n).some((c) => walk(c, loop, sw));
  };
  return walk(node, false, false);
}

/** Whether every path through the statement list ends in `return` (and nothing breaks out). */
function alwaysReturns(stmts: Node[]): boolean {
  const last = stmts[stmts.length - 1];
  if (!last) return false;
  const earlier = stmts.slice(0, -1);
  if (earlier.some((s) => breaksOut(s))) return false;
  if (last.type === 'ReturnStatement') return true;
  if (last.type === 'BlockStatement') return alwaysReturns(last.body);
  if (last.type === 'IfStatement') return !!last.alternate && alwaysReturns([last.consequent]) && alwaysReturns([last.alternate]);
  return false;
}

function breaksOut(n: Node): boolean {
  const walk = (x: Node, inLoop: boolean): boolean => {
    if (FUNCTION_TYPES.has(x.type)) return false;
    if (x.type === 'BreakStatement' || x.type === 'ContinueStatement') return x.label !== null || !inLoop;
    return children(x).some((c) => walk(c, inLoop || LOOP_TYPES.has(x.type) || x.type === 'SwitchStatement'));
  };
  return walk(n, false);
}

// ---- code generation by splicing rewritten children into the original text --------------------------

class Rewriter {
  constructor(private readonly src: string, private readonly fnName: string) {}

  private where(n: Node): string {
    const kind: Record<string, string> = { IfStatement: 'if', ConditionalExpression: '?:', WhileStatement: 'while', ForStatement: 'for' };
    return JSON.stringify(`${kind[n.type]} at line ${n.loc?.start.line ?? '?'} of ${this.fnName}`);
  }

  emit(n: Node): string {
    return this.rewrite(n) ?? this.splice(n);
  }

  private splice(n: Node): string {
    // A statement left native still reads its test as a JS boolean: a tensor there must be read with
    // item() (a guard under jit), not taken as an always-truthy object.
    const test = NATIVE_TEST.has(n.type) ? n.test : null;
    let out = '';
    let pos = n.start;
    for (const c of children(n)) {
      if (c.start < pos) continue; // shorthand properties share one range
      const text = this.emit(c);
      out += this.src.slice(pos, c.start) + (c === test ? `__ag.truth(${text})` : text);
      pos = c.end;
    }
    return out + this.src.slice(pos, n.end);
  }

  /** Emits a statement list; an `if` that returns on both sides may absorb the statements after it. */
  list(stmts: Node[], end: number): string {
    let out = '';
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i];
      const gap = this.src.slice(i === 0 ? s.start : stmts[i - 1].end, s.start);
      if (s.type === 'IfStatement' && !escapesExceptReturn(s)) {
        const rest = stmts.slice(i + 1);
        const thenReturns = alwaysReturns([s.consequent]);
        const elseStmts = s.alternate ? [s.alternate] : rest;
        if (thenReturns && alwaysReturns(elseStmts)) {
          const elseText = s.alternate ? this.asBlock(s.alternate) : `{${this.list(rest, end)}}`;
          out += `${gap}return __ag.ifReturn(${this.emit(s.test)}, () => ${this.asBlock(s.consequent)}, () => ${elseText}, ${this.where(s)});`;
          if (!s.alternate) return out;
          // Statements after an if/else that both return are unreachable; keep them as written.
          continue;
        }
      }
      out += gap + this.emit(s);
    }
    return out;
  }

  private asBlock(s: Node, tail = ''): string {
    if (s.type === 'BlockStatement') return `{${this.list(s.body, s.end)}${tail}}`;
    return `{${this.emit(s)}${tail}}`;
  }

  private rewrite(n: Node): string | undefined {
    switch (n.type) {
      case 'BlockStatement':
        return `{${this.list(n.body, n.end)}}`;
      case 'IfStatement': {
        if (escapes(n)) return undefined;
        const vars = assignedOutside([n.consequent, ...(n.alternate ? [n.alternate] : [])]);
        const v = vars.join(', ');
        const ret = `\nreturn [${v}];`;
        const thenFn = `(${v}) => ${this.asBlock(n.consequent, ret)}`;
        const elseFn = `(${v}) => ${n.alternate ? this.asBlock(n.alternate, ret) : `{${ret}}`}`;
        const call = `__ag.if_(${this.emit(n.test)}, ${thenFn}, ${elseFn}, [${v}], ${this.where(n)})`;
        return vars.length ? `;[${v}] = ${call};` : `${call};`;
      }
      case 'WhileStatement': {
        if (escapes(n.body)) return undefined;
        return this.whileCall(n, n.test, [n.body], this.asBlock(n.body));
      }
      case 'ForStatement':
        return this.forLoop(n);
      case 'ConditionalExpression':
        return `__ag.ifReturn(${this.emit(n.test)}, () => (${this.emit(n.consequent)}), () => (${this.emit(n.alternate)}), ${this.where(n)})`;
      case 'BinaryExpression':
        if (!(n.operator in BINARY)) return undefined;
        return `__ag.${BINARY[n.operator]}(${this.emit(n.left)}, ${this.emit(n.right)})`;
      case 'LogicalExpression':
        if (n.operator === '??') return undefined;
        return `__ag.${n.operator === '&&' ? 'and' : 'or'}(${this.emit(n.left)}, () => (${this.emit(n.right)}))`;
      case 'UnaryExpression':
        if (n.operator === '!') return `__ag.not(${this.emit(n.argument)})`;
        if (n.operator === '-') return `__ag.neg(${this.emit(n.argument)})`;
        return undefined;
      case 'AssignmentExpression':
        if (n.operator in COMPOUND && n.left.type === 'Identifier') {
          return `(${n.left.name} = __ag.${COMPOUND[n.operator]}(${n.left.name}, ${this.emit(n.right)}))`;
        }
        return undefined;
      case 'ExpressionStatement':
        if (n.expression.type === 'UpdateExpression' && n.expression.argument.type === 'Identifier') {
          return `${this.increment(n.expression)};`;
        }
        return undefined;
      default:
        return undefined;
    }
  }

  private increment(u: Node): string {
    const name = u.argument.name;
    return `${name} = __ag.${u.operator === '++' ? 'add' : 'sub'}(${name}, 1)`;
  }

  /** `;[vars] = __ag.while_((vars) => test, (vars) => {body; return [vars]}, [vars], where);` */
  private whileCall(n: Node, test: Node | null, analyzed: Node[], bodyText: string): string {
    const v = assignedOutside(analyzed).join(', ');
    const testText = test ? this.emit(test) : 'true';
    const call = `__ag.while_((${v}) => (${testText}), (${v}) => {${bodyText}\nreturn [${v}];}, [${v}], ${this.where(n)})`;
    return v ? `;[${v}] = ${call};` : `${call};`;
  }

  /** `for (let i = lo; i < hi; i++)` becomes `__ag.for_`; other for loops become init + while. */
  private forLoop(n: Node): string | undefined {
    if (escapes(n.body) || hasContinue(n.body)) return undefined;
    const counter = canonicalCounter(n);
    if (counter && !assignedOutside([n.body]).includes(counter.name)) {
      const vars = assignedOutside([n.body]);
      const v = vars.join(', ');
      const call = `__ag.for_(${this.emit(counter.lo)}, ${this.emit(counter.hi)}, (${[counter.name, ...vars].join(', ')}) => {${this.asBlock(n.body)}\nreturn [${v}];}, [${v}], ${this.where(n)})`;
      return vars.length ? `;[${v}] = ${call};` : `${call};`;
    }
    // General form: { init; while (test) { body; update } }; the update is part of the body's assignments.
    const init = n.init ? (n.init.type === 'VariableDeclaration' ? this.emit(n.init) : `${this.emit(n.init)};`) : '';
    const u = n.update;
    const update = !u ? '' : u.type === 'UpdateExpression' && u.argument.type === 'Identifier' ? `${this.increment(u)};` : `${this.emit(u)};`;
    const analyzed = u ? [n.body, { type: 'ExpressionStatement', expression: u, start: u.start, end: u.end } as unknown as Node] : [n.body];
    return `{${init}\n${this.whileCall(n, n.test, analyzed, `${this.asBlock(n.body)}\n${update}`)}}`;
  }
}

function escapesExceptReturn(n: Node): boolean {
  return breaksOut(n);
}

function hasContinue(n: Node): boolean {
  const walk = (x: Node): boolean => !FUNCTION_TYPES.has(x.type) && (x.type === 'ContinueStatement' || children(x).some(walk));
  return walk(n);
}

/** Recognizes `for (let i = lo; i < hi; i++ | ++i | i += 1)`. */
function canonicalCounter(n: Node): { name: string; lo: Node; hi: Node } | null {
  const init = n.init;
  if (!init || init.type !== 'VariableDeclaration' || init.declarations.length !== 1) return null;
  const d = init.declarations[0];
  if (d.id.type !== 'Identifier' || !d.init) return null;
  const name = d.id.name;
  const t = n.test;
  if (!t || t.type !== 'BinaryExpression' || t.operator !== '<' || t.left.type !== 'Identifier' || t.left.name !== name) return null;
  const u = n.update;
  const isInc = u && ((u.type === 'UpdateExpression' && u.operator === '++' && u.argument.type === 'Identifier' && u.argument.name === name) ||
    (u.type === 'AssignmentExpression' && u.operator === '+=' && u.left.type === 'Identifier' && u.left.name === name && u.right.type === 'Literal' && u.right.value === 1));
  if (!isInc) return null;
  if (referencedIn(t.right).has(name)) return null;
  return { name, lo: d.init, hi: t.right };
}

// ---- entry point -------------------------------------------------------------------------------------

const JS_NAMES = new Set(['arguments', 'undefined', 'NaN', 'Infinity', 'this', 'globalThis']);

/** Free variables of `node` that are neither globals nor provided in `scope`. */
function unreachable(node: FunctionNode, scope: Record<string, unknown>): string[] {
  const declared = declaredIn(node as unknown as Node);
  return [...referencedIn(node as unknown as Node)].filter((n) => !declared.has(n) && !JS_NAMES.has(n) && !(n in scope) && !(n in globalThis));
}

/**
 * Rewrites `fn` (see the file comment). The result is rebuilt from source, so the function's closure is
 * gone: free variables must be globals or be passed in `scope`; others are reported by name.
 */
export function autograph<F extends (...args: any[]) => unknown>(fn: F, opts: AutographOptions = {}): F {
  const name = fn.name || 'anonymous';
  const parsed = parseFunction(fn);
  if (!parsed) throw new KilnError(`autograph(${name}): cannot parse the function's source (native or bound functions cannot be rewritten)`);
  const { node, wrapped } = parsed;
  if ((node as { async?: boolean }).async || (node as { generator?: boolean }).generator) {
    throw new KilnError(`autograph(${name}): async functions and generators cannot be rewritten`);
  }
  const scope = opts.scope ?? {};
  const missing = unreachable(node, scope);
  if (missing.length) {
    throw new KilnError(
      `autograph(${name}): the function uses ${missing.map((m) => `'${m}'`).join(', ')} from its enclosing scope, which the rewritten ` +
        `function cannot see (it is rebuilt from source). Pass ${missing.length > 1 ? 'them' : 'it'} as arguments, or list ` +
        `${missing.length > 1 ? 'them' : 'it'}: jit(fn, {autograph: true, scope: {${missing.join(', ')}}})` +
        (missing.some((m) => /^__vite_ssr_import_\d+__$|^_?import\d*$/.test(m))
          ? '. Names like __vite_ssr_import_0__ are imports renamed by a bundler or test runner: call the ops through an object you pass in scope ({k}) or through tensor methods.'
          : ''),
    );
  }
  const n = node as unknown as Node;
  const rw = new Rewriter(wrapped, name);
  const params = n.params.map((p: Node) => rw.emit(p)).join(', ');
  const body = n.body.type === 'BlockStatement' ? `{${rw.list(n.body.body, n.body.end)}}` : `{return (${rw.emit(n.body)});}`;
  // Arrows become plain functions: `this` is then the caller's (jit passes it through for methods).
  const code = `return function ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : 'anonymous'}(${params}) ${body}\n//# sourceURL=autograph:${name}`;
  const names = Object.keys(scope);
  let made: unknown;
  try {
    made = new Function('__ag', ...names, code)(runtime, ...names.map((k) => scope[k]));
  } catch (e) {
    throw new KilnError(`autograph(${name}): internal: the rewritten source does not compile (${(e as Error).message})`);
  }
  return made as F;
}

/** The rewritten source, for debugging and tests. */
export function autographSource(fn: (...args: any[]) => unknown, opts: AutographOptions = {}): string {
  return autograph(fn, opts).toString();
}
