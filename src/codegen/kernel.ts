// The backend-neutral kernel description: what one kernel computes, as plain data that the wasm and
// WGSL emitters translate (they never look at the IR). Built by kernel_build.ts from one `fusion` op
// or from one primitive (eager).
//
// A Kernel reads and writes flat, row-major buffers (`buffers`: inputs, then constant data baked into
// the kernel, then outputs) and runs a list of statements:
//
//   loop v in [0, extent) { ... }   a counted loop over a named index variable. The first top-level
//                                   loop may be `parallel`: its iterations are independent, so a
//                                   runtime may split [0, extent) across threads (kernels take a
//                                   (start, end) range of it).
//   init a / update a op= expr      accumulators (`accs`): reset to the identity of their combine
//                                   op, folded over an inner loop, read afterwards as `acc a`.
//   store buf[index] = expr         one element; with `combine: 'sum'` it adds into the element
//                                   (scatter_add); with `dynamic` the index has a data-dependent part.
//   contract { ... }                a contraction template: for every (b, m, n),
//                                   acc = sum_k lhs(b, m, k) * rhs(b, k, n), then the epilogue
//                                   statements run with `acc` holding that sum. dot_general and conv
//                                   (implicit GEMM: rhs is the im2col view of the input, with guards
//                                   for padding) both lower to it, so backends write one tiled kernel.
//
// Indices (`Index`) are integer affine forms over loop variables plus floor-div/mod atoms (what
// reshapes leave behind); movement ops (broadcast, reshape, transpose, slice, pad, flip, concat)
// become index arithmetic and guards, never copies. Scalar expressions (`Expr`) form a DAG: a node
// object used twice is computed once per iteration (emitters cache by identity). Every Expr carries
// the dtype of its value; bool values are 0/1 (stored as one byte).
import type { DType } from '../ir/dtype.js';
import type { BinaryOp, UnaryOp } from '../ir/ops.js';

// ---- index expressions ---------------------------------------------------------------------------

/** Something an index term multiplies: a loop variable, or floor(index / by), or index mod by. */
export type IndexAtom =
  | { readonly var: string }
  | { readonly div: Index; readonly by: number }
  | { readonly mod: Index; readonly by: number };

export interface IndexTerm {
  readonly coeff: number;
  readonly atom: IndexAtom;
}

/** sum(coeff * atom) + offset; terms are canonical (sorted by atom text, merged, no zero coeffs). */
export interface Index {
  readonly terms: readonly IndexTerm[];
  readonly offset: number;
}

/** `lo <= index <= hi` and `(index - lo) % step == 0`: one condition of a guard. */
export interface IndexCond {
  readonly index: Index;
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
}

// ---- scalar expressions --------------------------------------------------------------------------

export type ReduceCombine = 'sum' | 'prod' | 'max' | 'min';
export type AccCombine = ReduceCombine | 'argmax' | 'argmin';

export type Expr =
  /** Element `index` of buffer `buf` (plus `dynamic.value * dynamic.scale`, checked against size). */
  | { readonly op: 'load'; readonly dtype: DType; readonly buf: number; readonly index: Index; readonly dynamic?: DynamicIndex }
  | { readonly op: 'const'; readonly dtype: DType; readonly value: number }
  /** The value of an index expression (iota), converted to dtype. */
  | { readonly op: 'index'; readonly dtype: DType; readonly index: Index }
  /** `dtype` is the result's; `x.dtype` the operand's (they differ for isnan). */
  | { readonly op: 'unary'; readonly dtype: DType; readonly fn: UnaryOp; readonly x: Expr }
  | { readonly op: 'binary'; readonly dtype: DType; readonly fn: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'select'; readonly dtype: DType; readonly pred: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'cast'; readonly dtype: DType; readonly x: Expr }
  /** `then` when every condition holds, else `else`; only the taken side is evaluated (pad, concat). */
  | { readonly op: 'guard'; readonly dtype: DType; readonly conds: readonly IndexCond[]; readonly then: Expr; readonly else: Expr }
  /** An accumulator's value (after the loop that folds it); for argmax/argmin the index found. */
  | { readonly op: 'acc'; readonly dtype: DType; readonly name: string }
  /** Word 0 of threefry2x32(key, (counter, 0)) as int32 (random_bits). */
  | { readonly op: 'threefry'; readonly dtype: DType; readonly key0: Expr; readonly key1: Expr; readonly counter: Index };

/** A data-dependent index part (gather/scatter): `value` must lie in [0, size); `what` names the op. */
export interface DynamicIndex {
  readonly value: Expr;
  readonly scale: number;
  readonly size: number;
  readonly what: string;
}

// ---- statements ----------------------------------------------------------------------------------

export interface AccDecl {
  readonly name: string;
  /** dtype of the values folded (the result dtype is int32 for argmax/argmin). */
  readonly dtype: DType;
  readonly combine: AccCombine;
}

export interface ContractOperand {
  /** The operand's element as a function of the contraction variables. */
  readonly value: Expr;
}

export type Stmt =
  | { readonly op: 'loop'; readonly var: string; readonly extent: number; readonly parallel?: boolean; readonly body: readonly Stmt[] }
  | { readonly op: 'store'; readonly buf: number; readonly index: Index; readonly value: Expr; readonly dynamic?: DynamicIndex; readonly combine?: 'sum' }
  | { readonly op: 'init'; readonly acc: string }
  /** Folds `value` into the accumulator; argmax/argmin also record `at`. */
  | { readonly op: 'update'; readonly acc: string; readonly value: Expr; readonly at?: Index }
  | ContractStmt;

/**
 * acc(b, m, n) = sum over k of lhs(b, m, k) * rhs(b, k, n); then `epilogue` runs for that (b, m, n)
 * with `{op: 'acc', name: acc}` holding the sum. The variables are named by `vars`.
 */
export interface ContractStmt {
  readonly op: 'contract';
  readonly dtype: DType;
  readonly vars: { readonly b: string; readonly m: string; readonly n: string; readonly k: string };
  readonly extents: { readonly b: number; readonly m: number; readonly n: number; readonly k: number };
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly acc: string;
  readonly epilogue: readonly Stmt[];
}

export type BufferRole = 'input' | 'const' | 'output';

export interface BufferDecl {
  readonly role: BufferRole;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Row-major values of a `const` buffer (baked into the kernel's executable). */
  readonly data?: readonly number[];
}

export interface Kernel {
  readonly name: string;
  /** Inputs (in operand order), then constant data, then outputs (in result order). */
  readonly buffers: readonly BufferDecl[];
  readonly accs: readonly AccDecl[];
  readonly body: readonly Stmt[];
  /** The extent of the top-level parallel loop (the range a launch splits), or 0 when there is none. */
  readonly parallel: number;
}

// ---- printing (inline snapshots) -----------------------------------------------------------------

const SHORT: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };

export function atomToString(a: IndexAtom): string {
  if ('var' in a) return a.var;
  if ('div' in a) return `(${indexToString(a.div)} div ${a.by})`;
  return `(${indexToString(a.mod)} mod ${a.by})`;
}

export function indexToString(ix: Index): string {
  const parts: string[] = [];
  for (const t of ix.terms) {
    const s = atomToString(t.atom);
    parts.push(t.coeff === 1 ? s : t.coeff === -1 ? `-${s}` : `${t.coeff}*${s}`);
  }
  if (ix.offset !== 0 || parts.length === 0) parts.push(String(ix.offset));
  return parts.join(' + ').replace(/\+ -/g, '- ');
}

function condToString(c: IndexCond): string {
  const range = `${indexToString(c.index)} in [${c.lo}, ${c.hi}]`;
  return c.step === 1 ? range : `${range} step ${c.step}`;
}

/** Prints a kernel; shared expression nodes become `tN = ...` lines so the DAG is visible. */
export function printKernel(k: Kernel): string {
  const bufName = (i: number) => {
    const b = k.buffers[i];
    const nth = k.buffers.slice(0, i).filter((x) => x.role === b.role).length;
    return `${b.role === 'input' ? 'in' : b.role === 'const' ? 'c' : 'out'}${nth}`;
  };
  const uses = new Map<Expr, number>();
  const count = (e: Expr): void => {
    const n = (uses.get(e) ?? 0) + 1;
    uses.set(e, n);
    if (n > 1) return;
    for (const c of exprChildren(e)) count(c);
  };
  const countStmt = (s: Stmt): void => {
    if (s.op === 'loop') s.body.forEach(countStmt);
    else if (s.op === 'store') {
      count(s.value);
      if (s.dynamic) count(s.dynamic.value);
    } else if (s.op === 'update') count(s.value);
    else if (s.op === 'contract') {
      count(s.lhs);
      count(s.rhs);
      s.epilogue.forEach(countStmt);
    }
  };
  k.body.forEach(countStmt);
  const names = new Map<Expr, string>();
  const lines: string[] = [];
  let pad = '';
  const show = (e: Expr): string => {
    const named = names.get(e);
    if (named) return named;
    const text = exprText(e);
    if ((uses.get(e) ?? 0) > 1 && e.op !== 'const' && e.op !== 'acc') {
      const name = `t${names.size}`;
      names.set(e, name);
      lines.push(`${pad}${name} = ${text}`);
      return name;
    }
    return text;
  };
  const dyn = (d: DynamicIndex | undefined) => (d ? ` + ${show(d.value)}*${d.scale} checked<${d.size}` : '');
  const exprText = (e: Expr): string => {
    switch (e.op) {
      case 'load': return `${bufName(e.buf)}[${indexToString(e.index)}${dyn(e.dynamic)}]`;
      case 'const': return `${SHORT[e.dtype]}(${e.value})`;
      case 'index': return `${SHORT[e.dtype]}(${indexToString(e.index)})`;
      case 'unary': return `${e.fn}(${show(e.x)})`;
      case 'binary': return `${e.fn}(${show(e.a)}, ${show(e.b)})`;
      case 'select': return `select(${show(e.pred)}, ${show(e.a)}, ${show(e.b)})`;
      case 'cast': return `cast<${SHORT[e.dtype]}>(${show(e.x)})`;
      case 'guard': return `guard(${e.conds.map(condToString).join(' && ')} ? ${show(e.then)} : ${show(e.else)})`;
      case 'acc': return e.name;
      case 'threefry': return `threefry(${show(e.key0)}, ${show(e.key1)}, ${indexToString(e.counter)})`;
    }
  };
  const stmt = (s: Stmt): void => {
    switch (s.op) {
      case 'loop': {
        lines.push(`${pad}for ${s.var} in 0..${s.extent}${s.parallel ? ' parallel' : ''} {`);
        const outer = pad;
        pad += '  ';
        s.body.forEach(stmt);
        pad = outer;
        lines.push(`${pad}}`);
        return;
      }
      case 'store': {
        const v = show(s.value);
        const ix = `${indexToString(s.index)}${dyn(s.dynamic)}`;
        lines.push(`${pad}${bufName(s.buf)}[${ix}] ${s.combine === 'sum' ? '+=' : '='} ${v}`);
        return;
      }
      case 'init':
        lines.push(`${pad}init ${s.acc}`);
        return;
      case 'update': {
        const acc = k.accs.find((a) => a.name === s.acc);
        lines.push(`${pad}${s.acc} ${acc?.combine ?? '?'}= ${show(s.value)}${s.at ? ` at ${indexToString(s.at)}` : ''}`);
        return;
      }
      case 'contract': {
        const { vars: v, extents: x } = s;
        lines.push(`${pad}contract<${SHORT[s.dtype]}> ${v.b} in 0..${x.b}, ${v.m} in 0..${x.m}, ${v.n} in 0..${x.n}, sum ${v.k} in 0..${x.k} {`);
        const outer = pad;
        pad += '  ';
        lines.push(`${pad}${s.acc} = sum(${show(s.lhs)} * ${show(s.rhs)})`);
        s.epilogue.forEach(stmt);
        pad = outer;
        lines.push(`${pad}}`);
        return;
      }
    }
  };
  const sig = k.buffers.map((b, i) => `${bufName(i)}: ${SHORT[b.dtype]}[${b.size}]`).join(', ');
  const accs = k.accs.map((a) => `${a.name}: ${a.combine}<${SHORT[a.dtype]}>`).join(', ');
  lines.push(`kernel ${k.name}(${sig})${accs ? ` acc ${accs}` : ''} {`);
  pad = '  ';
  k.body.forEach(stmt);
  lines.push('}');
  return lines.join('\n');
}

/** The direct operands of an expression node (for DAG walks). */
export function exprChildren(e: Expr): Expr[] {
  switch (e.op) {
    case 'load': return e.dynamic ? [e.dynamic.value] : [];
    case 'unary': return [e.x];
    case 'cast': return [e.x];
    case 'binary': return [e.a, e.b];
    case 'select': return [e.pred, e.a, e.b];
    case 'guard': return [e.then, e.else];
    case 'threefry': return [e.key0, e.key1];
    default: return [];
  }
}

/**
 * Rough work of one launch (innermost iterations; b*m*n*k for a contraction), for deciding whether
 * splitting it across threads pays.
 */
export function estimateWork(k: Kernel): number {
  const stmts = (ss: readonly Stmt[]): number => {
    let n = 0;
    for (const s of ss) {
      if (s.op === 'loop') n += s.extent * Math.max(1, stmts(s.body));
      else if (s.op === 'contract') n += s.extents.b * s.extents.m * s.extents.n * Math.max(1, s.extents.k);
      else n += 1;
    }
    return n;
  };
  return stmts(k.body);
}
