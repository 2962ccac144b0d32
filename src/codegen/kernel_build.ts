// Builds kernel descriptions (kernel.ts) from IR: one `fusion` op's region, or one primitive for
// eager execution. Values are evaluated "at a position" (an index into their shape), walking back
// through the region's ops: movement ops turn into index arithmetic, elementwise ops into Expr nodes.
import type { Block, Op, Value } from '../ir/function.js';
import { newValue } from '../ir/function.js';
import type { AnyAttrs, Attrs, Primitive } from '../ir/ops.js';
import { BINARY_OPS, FLOAT_UNARY_OPS, UNARY_OPS, inferTypes } from '../ir/ops.js';
import type { DType } from '../ir/dtype.js';
import type { TensorType } from '../ir/shape.js';
import { sizeOf, stridesOf, typeToString } from '../ir/shape.js';
import { KilnError, fail } from '../ir/error.js';
import { castScalar } from '../ir/interpret_scalar.js';
import type { AccCombine, AccDecl, BufferDecl, Expr, Index, IndexCond, Kernel, Stmt } from './kernel.js';
import { exprChildren } from './kernel.js';
import { ixAdd, ixConst, ixDelinearize, ixDiv, ixLinear, ixMod, ixRange, ixScale, ixSub, ixVar } from './kernel_index.js';
import { collapseLoops } from './kernel_collapse.js';

const UNARY = new Set<string>(UNARY_OPS);
const BINARY = new Set<string>(BINARY_OPS);
const REDUCE_COMBINE: Partial<Record<Primitive, AccCombine>> = {
  reduce_sum: 'sum', reduce_prod: 'prod', reduce_max: 'max', reduce_min: 'min', argmax: 'argmax', argmin: 'argmin',
};

/** A position in a value: a multi-index, or a row-major linear index (reshape passes it through). */
interface Pos {
  readonly multi?: readonly Index[];
  readonly linear?: Index;
}

/** The identity of a combine op, as the value a `dtype` accumulator starts from. */
export function combineIdentity(c: AccCombine, dtype: DType): number {
  switch (c) {
    case 'sum': return 0;
    case 'prod': return 1;
    case 'max': case 'argmax': return dtype === 'int32' ? -2147483648 : dtype === 'bool' ? 0 : -Infinity;
    case 'min': case 'argmin': return dtype === 'int32' ? 2147483647 : dtype === 'bool' ? 1 : Infinity;
  }
}

class Builder {
  readonly buffers: BufferDecl[] = [];
  readonly accs: AccDecl[] = [];
  readonly ranges = new Map<string, number>();
  private readonly paramBuf = new Map<Value, number>();
  private readonly producer = new Map<Value, Op>();
  private readonly memo = new Map<Value, Map<string, Expr>>();
  /** Results of reductions/contractions: evaluating them anywhere gives the accumulator. */
  readonly accOf = new Map<Value, Expr>();
  private readonly outputs: Value[];
  private readonly constBufs = new Map<Op, number>();
  private nextVar = 0;

  constructor(readonly block: Block) {
    block.params.forEach((p, i) => {
      this.paramBuf.set(p, i);
      this.buffers.push({ role: 'input', dtype: p.type.dtype, size: sizeOf(p.type.shape) });
    });
    for (const op of block.ops) for (const r of op.results) this.producer.set(r, op);
    this.outputs = [...block.results];
    // Constant data buffers are declared up front: outBuf(i) counts the buffers before the outputs,
    // so one declared while a template builds a store would shift the outputs onto it.
    const gathered = new Set(block.ops.filter((op) => op.prim === 'gather').map((op) => op.operands[0]));
    for (const op of block.ops) {
      if (op.prim === 'constant' && ((op.attrs as Attrs<'constant'>).value.length !== 1 || gathered.has(op.results[0]))) this.constBuffer(op);
    }
  }

  /** Output buffers go last; call once all const buffers are known. */
  finish(name: string, body: Stmt[]): Kernel {
    const outs = this.outputs.map((v) => ({ role: 'output' as const, dtype: v.type.dtype, size: sizeOf(v.type.shape) }));
    const buffers = [...this.buffers, ...outs];
    const collapsed = collapseLoops(body, this.ranges);
    const top = collapsed.length === 1 && collapsed[0].op === 'loop' && collapsed[0].parallel ? collapsed[0].extent : 0;
    const contract = collapsed.length === 1 && collapsed[0].op === 'contract' ? collapsed[0].extents.b * collapsed[0].extents.m : 0;
    return { name, buffers, accs: this.accs, body: collapsed, parallel: top || contract };
  }

  outBuf(i: number): number {
    return this.buffers.length + i;
  }

  newVar(prefix: string, extent: number): string {
    const name = `${prefix}${this.nextVar++}`;
    this.ranges.set(name, extent);
    return name;
  }

  /** Index variables for a shape: a fresh loop variable per dim of size > 1, constant 0 otherwise. */
  vars(prefix: string, shape: readonly number[]): { multi: Index[]; loops: { name: string; extent: number }[] } {
    const loops: { name: string; extent: number }[] = [];
    const multi = shape.map((n) => {
      if (n === 1) return ixConst(0);
      const name = this.newVar(prefix, n);
      loops.push({ name, extent: n });
      return ixVar(name);
    });
    return { multi, loops };
  }

  newAcc(combine: AccCombine, dtype: DType): string {
    const name = `a${this.accs.length}`;
    this.accs.push({ name, dtype, combine });
    return name;
  }

  multiOf(pos: Pos, shape: readonly number[]): readonly Index[] {
    return pos.multi ?? ixDelinearize(pos.linear!, shape, this.ranges);
  }
  linearOf(pos: Pos, shape: readonly number[]): Index {
    return pos.linear ?? ixLinear(pos.multi!, shape);
  }

  /** The scalar expression of value `v` at `pos`; memoized so shared subexpressions stay shared. */
  at(v: Value, pos: Pos): Expr {
    const shape = v.type.shape;
    const key = pos.linear ? `L${ixToKey(pos.linear)}` : `M${pos.multi!.map(ixToKey).join(';')}`;
    let m = this.memo.get(v);
    if (!m) this.memo.set(v, (m = new Map()));
    const hit = m.get(key);
    if (hit) return hit;
    const e = this.compute(v, pos, shape);
    m.set(key, e);
    return e;
  }

  private compute(v: Value, pos: Pos, shape: readonly number[]): Expr {
    const dtype = v.type.dtype;
    const acc = this.accOf.get(v);
    if (acc) return acc;
    const buf = this.paramBuf.get(v);
    if (buf !== undefined) return { op: 'load', dtype, buf, index: this.linearOf(pos, shape) };
    const op = this.producer.get(v);
    if (!op) fail('kernel', `value of type ${typeToString(v.type)} is read but not defined in the kernel`);
    const [x] = op.operands;
    const a = op.attrs;
    if (UNARY.has(op.prim)) return { op: 'unary', dtype, fn: op.prim as never, x: this.at(x, pos) };
    if (BINARY.has(op.prim)) return { op: 'binary', dtype, fn: op.prim as never, a: this.at(op.operands[0], pos), b: this.at(op.operands[1], pos) };
    switch (op.prim) {
      case 'select':
        return { op: 'select', dtype, pred: this.at(op.operands[0], pos), a: this.at(op.operands[1], pos), b: this.at(op.operands[2], pos) };
      case 'cast':
        return x.type.dtype === dtype ? this.at(x, pos) : { op: 'cast', dtype, x: this.at(x, pos) };
      case 'constant': {
        const { value } = a as Attrs<'constant'>;
        if (value.length === 1) return { op: 'const', dtype, value: castScalar(value[0], dtype) };
        return { op: 'load', dtype, buf: this.constBuffer(op), index: this.linearOf(pos, shape) };
      }
      case 'iota': {
        const { dimension } = a as Attrs<'iota'>;
        return { op: 'index', dtype, index: this.multiOf(pos, shape)[dimension] };
      }
      case 'reshape':
        return this.at(x, { linear: this.linearOf(pos, shape) });
      case 'broadcast': {
        const { dims } = a as Attrs<'broadcast'>;
        const out = this.multiOf(pos, shape);
        return this.at(x, { multi: dims.map((d, i) => (x.type.shape[i] === 1 ? ixConst(0) : out[d])) });
      }
      case 'transpose': {
        const { perm } = a as Attrs<'transpose'>;
        const out = this.multiOf(pos, shape);
        const multi = new Array<Index>(perm.length);
        perm.forEach((p, j) => (multi[p] = out[j]));
        return this.at(x, { multi });
      }
      case 'slice': {
        const { start, stride } = a as Attrs<'slice'>;
        const out = this.multiOf(pos, shape);
        return this.at(x, { multi: out.map((o, i) => ixAdd(ixScale(o, stride[i]), ixConst(start[i]))) });
      }
      case 'flip': {
        const { axes } = a as Attrs<'flip'>;
        const out = this.multiOf(pos, shape);
        return this.at(x, { multi: out.map((o, i) => (axes.includes(i) ? ixSub(ixConst(x.type.shape[i] - 1), o) : o)) });
      }
      case 'pad': return this.pad(op, pos, shape);
      case 'concat': return this.concat(op, pos, shape);
      case 'gather': return this.gather(op, pos, shape);
      case 'random_bits': {
        const key0 = this.at(x, { multi: [ixConst(0)] });
        const key1 = this.at(x, { multi: [ixConst(1)] });
        return { op: 'threefry', dtype: 'int32', key0, key1, counter: this.linearOf(pos, shape) };
      }
      default:
        throw new KilnError(`internal: kernel: ${op.prim} cannot be evaluated per element here`);
    }
  }

  private constBuffer(op: Op): number {
    let i = this.constBufs.get(op);
    if (i !== undefined) return i;
    const { value, dtype, shape } = op.attrs as Attrs<'constant'>;
    i = this.buffers.length;
    this.buffers.push({ role: 'const', dtype, size: sizeOf(shape), data: value.map((v) => castScalar(v, dtype)) });
    this.constBufs.set(op, i);
    return i;
  }

  /** Drops conditions that hold for every value of their variables. */
  private conds(cs: IndexCond[]): IndexCond[] {
    return cs.filter((c) => {
      const [lo, hi] = ixRange(c.index, this.ranges);
      return !(lo >= c.lo && hi <= c.hi && (c.step === 1 || (c.index.terms.length === 0 && (c.index.offset - c.lo) % c.step === 0)));
    });
  }

  private guarded(dtype: DType, conds: IndexCond[], then: () => Expr, otherwise: Expr): Expr {
    const cs = this.conds(conds);
    if (cs.length === 0) return then();
    if (cs.some((c) => {
      const [lo, hi] = ixRange(c.index, this.ranges);
      // c.hi < c.lo: an empty range (padding an empty axis); emitters test `index - lo <=u hi - lo`, true for it.
      return c.hi < c.lo || hi < c.lo || lo > c.hi;
    })) return otherwise;
    return { op: 'guard', dtype, conds: cs, then: then(), else: otherwise };
  }

  private pad(op: Op, pos: Pos, shape: readonly number[]): Expr {
    const [x] = op.operands;
    const { low, interior, value } = op.attrs as Attrs<'pad'>;
    const dtype = op.results[0].type.dtype;
    const out = this.multiOf(pos, shape);
    const conds: IndexCond[] = [];
    const multi: Index[] = [];
    x.type.shape.forEach((n, i) => {
      const step = interior[i] + 1;
      const shifted = ixSub(out[i], ixConst(low[i]));
      conds.push({ index: shifted, lo: 0, hi: (n - 1) * step, step });
      multi.push(step === 1 ? shifted : ixDiv(shifted, step, this.ranges));
    });
    return this.guarded(dtype, conds, () => this.at(x, { multi }), { op: 'const', dtype, value: castScalar(value, dtype) });
  }

  private concat(op: Op, pos: Pos, shape: readonly number[]): Expr {
    const { axis } = op.attrs as Attrs<'concat'>;
    const dtype = op.results[0].type.dtype;
    const out = this.multiOf(pos, shape);
    const parts = op.operands.filter((x) => x.type.shape[axis] > 0);
    const starts: number[] = [];
    let at = 0;
    for (const x of parts) {
      starts.push(at);
      at += x.type.shape[axis];
    }
    // A chain of guards, last operand innermost: each tests "below the end of this part".
    let e: Expr | null = null;
    for (let j = parts.length - 1; j >= 0; j--) {
      const x = parts[j];
      const multi = out.map((o, i) => (i === axis ? ixSub(o, ixConst(starts[j])) : o));
      const here = () => this.at(x, { multi });
      if (e === null) e = here();
      else {
        const cond: IndexCond = { index: out[axis], lo: starts[j], hi: starts[j] + x.type.shape[axis] - 1, step: 1 };
        e = this.guarded(dtype, [cond], here, e);
      }
    }
    return e ?? { op: 'const', dtype, value: 0 };
  }

  private gather(op: Op, pos: Pos, shape: readonly number[]): Expr {
    const [x, idx] = op.operands;
    const { axis } = op.attrs as Attrs<'gather'>;
    const out = this.multiOf(pos, shape);
    const r = idx.type.shape.length;
    const xMulti = [...out.slice(0, axis), ixConst(0), ...out.slice(axis + r)];
    const at = this.at(idx, { multi: out.slice(axis, axis + r) });
    const index = ixLinear(xMulti, x.type.shape);
    const xs = stridesOf(x.type.shape);
    // The table gathered from is a buffer: a kernel input, or a constant that fusion folded into the kernel.
    const xOp = this.producer.get(x);
    const xBuf = this.paramBuf.get(x) ?? (xOp?.prim === 'constant' ? this.constBuffer(xOp) : undefined);
    if (xBuf === undefined) throw new KilnError('internal: kernel: gather reads a kernel input directly');
    return { op: 'load', dtype: x.type.dtype, buf: xBuf, index, dynamic: { value: at, scale: xs[axis], size: x.type.shape[axis], what: 'gather' } };
  }

  /** Nested loops over `loops` (outermost first) around `body`; the outermost may be parallel. */
  nest(loops: { name: string; extent: number }[], body: Stmt[], parallel: boolean): Stmt[] {
    let s = body;
    for (let i = loops.length - 1; i >= 0; i--) {
      s = [{ op: 'loop', var: loops[i].name, extent: loops[i].extent, ...(parallel && i === 0 ? { parallel: true } : {}), body: s }];
    }
    return s;
  }

  // ---- kernel templates --------------------------------------------------------------------------

  elementwise(): Stmt[] {
    const shape = this.outputs[0].type.shape;
    for (const v of this.outputs) {
      if (sizeOf(v.type.shape) !== sizeOf(shape)) throw new KilnError(`internal: kernel: elementwise outputs of different sizes (${this.outputs.map((o) => typeToString(o.type)).join(', ')})`);
    }
    const { multi, loops } = this.vars('i', shape);
    const linear = ixLinear(multi, shape);
    const stores: Stmt[] = this.outputs.map((v, i) => ({ op: 'store', buf: this.outBuf(i), index: linear, value: this.at(v, { multi }) }));
    return this.nest(loops, stores, true);
  }

  reduce(reductions: Op[]): Stmt[] {
    const first = reductions[0];
    const S = first.operands[0].type.shape;
    const axes = first.prim === 'argmax' || first.prim === 'argmin' ? [(first.attrs as Attrs<'argmax'>).axis] : [...(first.attrs as Attrs<'reduce_sum'>).axes];
    const keptShape = S.filter((_, d) => !axes.includes(d));
    const redShape = S.filter((_, d) => axes.includes(d));
    const kept = this.vars('i', keptShape);
    const red = this.vars('r', redShape);
    const sMulti: Index[] = [];
    let ki = 0;
    let ri = 0;
    S.forEach((_, d) => sMulti.push(axes.includes(d) ? red.multi[ri++] : kept.multi[ki++]));
    // Phases as in the fuse rules: 2k = per element of S in pass k, 2k + 1 = per row after pass k.
    const phase = new Map<Value, number>();
    const ph = (v: Value) => phase.get(v) ?? 0;
    const passes: { inits: Stmt[]; loop: Stmt[]; rows: Stmt[] }[] = [];
    const pass = (k: number) => {
      while (passes.length <= k) passes.push({ inits: [], loop: [], rows: [] });
      return passes[k];
    };
    pass(0);
    for (const op of this.block.ops) {
      const p = Math.max(0, ...op.operands.map(ph));
      let next = p;
      const combine = REDUCE_COMBINE[op.prim];
      if (combine) {
        const x = op.operands[0];
        const name = this.newAcc(combine, x.type.dtype);
        const at = combine === 'argmax' || combine === 'argmin' ? (redShape[0] === 1 ? ixConst(0) : red.multi[0]) : undefined;
        pass(p / 2).inits.push({ op: 'init', acc: name });
        pass(p / 2).loop.push({ op: 'update', acc: name, value: this.at(x, { multi: sMulti }), ...(at ? { at } : {}) });
        this.accOf.set(op.results[0], { op: 'acc', dtype: op.results[0].type.dtype, name });
        next = p + 1;
      } else if (op.prim === 'broadcast' && p % 2 === 1) next = p + 1;
      op.results.forEach((v) => phase.set(v, next));
    }
    const rowLinear = ixLinear(kept.multi, keptShape);
    const sLinear = ixLinear(sMulti, S);
    this.outputs.forEach((v, i) => {
      const p = ph(v);
      if (p % 2 === 1) {
        pass((p - 1) / 2).rows.push({ op: 'store', buf: this.outBuf(i), index: rowLinear, value: this.at(v, { linear: rowLinear }) });
      } else {
        pass(p / 2).loop.push({ op: 'store', buf: this.outBuf(i), index: sLinear, value: this.at(v, { multi: sMulti }) });
      }
    });
    stashRecomputed(passes.map((q) => q.loop), sLinear);
    // Accumulators are all initialized up front (a later pass's init would be hoisted anyway).
    const body: Stmt[] = passes.flatMap((q) => q.inits);
    for (const q of passes) {
      if (q.loop.length) body.push(...this.nest(red.loops, q.loop, false));
      body.push(...q.rows);
    }
    return this.nest(kept.loops, body, true);
  }

  contraction(anchor: Op): Stmt[] {
    const out = anchor.results[0];
    const dtype = out.type.dtype;
    const acc = this.newAcc('sum', dtype);
    this.accOf.set(out, { op: 'acc', dtype, name: acc });
    const shapes = { lhs: anchor.operands[0].type.shape, rhs: anchor.operands[1].type.shape };
    const plan = anchor.prim === 'dot_general' ? this.dotPlan(anchor, shapes.lhs, shapes.rhs) : this.convPlan(anchor);
    const epilogue: Stmt[] = this.outputs.map((v, i) => ({ op: 'store', buf: this.outBuf(i), index: ixLinear(plan.out, out.type.shape), value: this.at(v, { multi: plan.out }) }));
    return [{
      op: 'contract', dtype, vars: plan.vars, extents: plan.extents, acc, epilogue,
      lhs: plan.lhs(), rhs: plan.rhs(),
    }];
  }

  private contractVars(extents: { b: number; m: number; n: number; k: number }) {
    const vars = { b: this.newVar('b', extents.b), m: this.newVar('m', extents.m), n: this.newVar('n', extents.n), k: this.newVar('k', extents.k) };
    return vars;
  }

  private dotPlan(op: Op, ls: readonly number[], rs: readonly number[]) {
    const { contract: [ca, cb], batch: [ba, bb] } = op.attrs as Attrs<'dot_general'>;
    const freeA = ls.map((_, i) => i).filter((d) => !ca.includes(d) && !ba.includes(d));
    const freeB = rs.map((_, i) => i).filter((d) => !cb.includes(d) && !bb.includes(d));
    const sizes = (shape: readonly number[], dims: number[]) => dims.map((d) => shape[d]);
    const extents = { b: sizeOf(sizes(ls, ba)), m: sizeOf(sizes(ls, freeA)), n: sizeOf(sizes(rs, freeB)), k: sizeOf(sizes(ls, ca)) };
    const vars = this.contractVars(extents);
    const split = (name: string, extent: number, shape: number[]) => (extent === 1 ? shape.map(() => ixConst(0)) : ixDelinearize(ixVar(name), shape, this.ranges));
    const bIx = split(vars.b, extents.b, sizes(ls, ba));
    const mIx = split(vars.m, extents.m, sizes(ls, freeA));
    const nIx = split(vars.n, extents.n, sizes(rs, freeB));
    const kIx = split(vars.k, extents.k, sizes(ls, ca));
    const place = (rank: number, groups: [number[], Index[]][]) => {
      const multi = new Array<Index>(rank);
      for (const [dims, ixs] of groups) dims.forEach((d, i) => (multi[d] = ixs[i]));
      return multi;
    };
    const lhsMulti = place(ls.length, [[ba, bIx], [freeA, mIx], [ca, kIx]]);
    const rhsMulti = place(rs.length, [[bb, bIx], [freeB, nIx], [cb, kIx]]);
    return {
      vars, extents, out: [...bIx, ...mIx, ...nIx],
      lhs: () => this.at(op.operands[0], { multi: lhsMulti }),
      rhs: () => this.at(op.operands[1], { multi: rhsMulti }),
    };
  }

  private convPlan(op: Op) {
    const [x, w] = op.operands;
    const { stride, padding, lhsDilation, rhsDilation, groups: G } = op.attrs as Attrs<'conv'>;
    const [N, C] = x.type.shape;
    const [O, Cg] = w.type.shape;
    const inShape = x.type.shape.slice(2);
    const kShape = w.type.shape.slice(2);
    const outShape = op.results[0].type.shape.slice(2);
    const taps = sizeOf(kShape);
    const OG = O / G;
    const extents = { b: N * G, m: OG, n: sizeOf(outShape), k: Cg * taps };
    const vars = this.contractVars(extents);
    const R = this.ranges;
    const b = extents.b === 1 ? ixConst(0) : ixVar(vars.b);
    const g = G === 1 ? ixConst(0) : ixMod(b, G, R);
    const nb = G === 1 ? b : ixDiv(b, G, R);
    const m = extents.m === 1 ? ixConst(0) : ixVar(vars.m);
    const k = extents.k === 1 ? ixConst(0) : ixVar(vars.k);
    const c = ixDiv(k, taps, R);
    const t = ixDelinearize(ixMod(k, taps, R), kShape, R);
    const p = extents.n === 1 ? outShape.map(() => ixConst(0)) : ixDelinearize(ixVar(vars.n), outShape, R);
    const o = ixAdd(ixScale(g, OG), m);
    const conds: IndexCond[] = [];
    const xs = inShape.map((n, d) => {
      const q = ixAdd(ixScale(p[d], stride[d]), ixScale(t[d], rhsDilation[d]), ixConst(-padding[d][0]));
      conds.push({ index: q, lo: 0, hi: (n - 1) * lhsDilation[d], step: lhsDilation[d] });
      return lhsDilation[d] === 1 ? q : ixDiv(q, lhsDilation[d], R);
    });
    const dtype = x.type.dtype;
    void C;
    return {
      vars, extents, out: [nb, o, ...p],
      lhs: () => this.at(w, { multi: [o, c, ...t] }),
      rhs: () => this.guarded(dtype, conds, () => this.at(x, { multi: [nb, ixAdd(ixScale(g, Cg), c), ...xs] }), { op: 'const', dtype, value: 0 }),
    };
  }

  scatterAdd(op: Op): Stmt[] {
    const [x, idx, upd] = op.operands;
    const { axis } = op.attrs as Attrs<'scatter_add'>;
    const out = op.results[0];
    const copy = this.vars('i', x.type.shape);
    const copyStmts = this.nest(copy.loops, [{ op: 'store', buf: this.outBuf(0), index: ixLinear(copy.multi, x.type.shape), value: this.at(x, { multi: copy.multi }) }], false);
    const u = this.vars('u', upd.type.shape);
    const r = idx.type.shape.length;
    const outMulti = [...u.multi.slice(0, axis), ixConst(0), ...u.multi.slice(axis + r)];
    const os = stridesOf(out.type.shape);
    const value = this.at(upd, { multi: u.multi });
    const dynamic = { value: this.at(idx, { multi: u.multi.slice(axis, axis + r) }), scale: os[axis], size: out.type.shape[axis], what: 'scatter_add' };
    const upStmts = this.nest(u.loops, [{ op: 'store', buf: this.outBuf(0), index: ixLinear(outMulti, out.type.shape), value, dynamic, combine: 'sum' }], false);
    return [...copyStmts, ...upStmts];
  }

  reduceWindow(op: Op): Stmt[] {
    const [x] = op.operands;
    const { kind, window, stride, padding } = op.attrs as Attrs<'reduce_window'>;
    const out = op.results[0];
    const dtype = x.type.dtype;
    const lead = x.type.shape.length - window.length;
    const o = this.vars('i', out.type.shape);
    const wv = this.vars('w', window);
    const combine: AccCombine = kind === 'max' ? 'max' : 'sum';
    const acc = this.newAcc(combine, dtype);
    const conds: IndexCond[] = [];
    const multi = x.type.shape.map((n, d) => {
      if (d < lead) return o.multi[d];
      const j = d - lead;
      const i = ixAdd(ixScale(o.multi[d], stride[j]), wv.multi[j], ixConst(-padding[j][0]));
      conds.push({ index: i, lo: 0, hi: n - 1, step: 1 });
      return i;
    });
    const identity: Expr = { op: 'const', dtype, value: combineIdentity(combine, dtype) };
    const value = this.guarded(dtype, conds, () => this.at(x, { multi }), identity);
    const body: Stmt[] = [
      { op: 'init', acc },
      ...this.nest(wv.loops, [{ op: 'update', acc, value }], false),
      { op: 'store', buf: this.outBuf(0), index: ixLinear(o.multi, out.type.shape), value: { op: 'acc', dtype, name: acc } },
    ];
    return this.nest(o.loops, body, true);
  }
}

/** Ops worth computing once rather than twice (what a second pass would otherwise recompute). */
const EXPENSIVE = new Set<string>([...FLOAT_UNARY_OPS, 'pow', 'atan2']);

function reachable(roots: readonly Expr[]): Set<Expr> {
  const seen = new Set<Expr>();
  const walk = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    exprChildren(e).forEach(walk);
  };
  roots.forEach(walk);
  return seen;
}

function replaceNode(root: Expr, from: Expr, to: Expr, memo = new Map<Expr, Expr>()): Expr {
  if (root === from) return to;
  const hit = memo.get(root);
  if (hit) return hit;
  const r = (e: Expr) => replaceNode(e, from, to, memo);
  let out: Expr;
  switch (root.op) {
    case 'unary': out = { ...root, x: r(root.x) }; break;
    case 'cast': out = { ...root, x: r(root.x) }; break;
    case 'binary': out = { ...root, a: r(root.a), b: r(root.b) }; break;
    case 'select': out = { ...root, pred: r(root.pred), a: r(root.a), b: r(root.b) }; break;
    case 'guard': out = { ...root, then: r(root.then), else: r(root.else) }; break;
    default: out = root;
  }
  memo.set(root, out);
  return out;
}

/**
 * A multi-pass reduce kernel recomputes earlier passes' values in later ones (softmax: exp(x - max)
 * feeds the sum and the division). When such a value is expensive and has the output's dtype, the
 * earlier pass stores it into the output and the later pass reads it back instead (one more write,
 * to a row that is still in cache, and one exp fewer per element).
 */
function stashRecomputed(passes: Stmt[][], sLinear: Index): void {
  const costly = (e: Expr) => [...reachable([e])].some((n) => (n.op === 'unary' || n.op === 'binary') && EXPENSIVE.has(n.fn));
  for (let j = 1; j < passes.length; j++) {
    passes[j].forEach((s, i) => {
      if (s.op !== 'store') return;
      const out = s.value.dtype;
      // The latest earlier pass that computes a costly subexpression of this store.
      for (let k = j - 1; k >= 0; k--) {
        const before = reachable(passes[k].flatMap((x) => (x.op === 'update' || x.op === 'store' ? [x.value] : [])));
        let found: Expr | null = null;
        const search = (e: Expr): void => {
          if (found) return;
          if (before.has(e) && e.dtype === out && e.op !== 'load' && costly(e)) {
            found = e;
            return;
          }
          exprChildren(e).forEach(search);
        };
        search(s.value);
        if (!found) continue;
        const stashed: Expr = found;
        passes[k].push({ op: 'store', buf: s.buf, index: sLinear, value: stashed });
        passes[j][i] = { ...s, value: replaceNode(s.value, stashed, { op: 'load', dtype: out, buf: s.buf, index: sLinear }) };
        return;
      }
    });
  }
}

function ixToKey(ix: Index): string {
  return JSON.stringify(ix);
}

/** Builds the kernel computing `block`'s results from its params (a fusion region, or one op). */
export function buildKernel(name: string, block: Block): Kernel {
  const b = new Builder(block);
  const ops = block.ops;
  const anchor = ops.find((op) => op.prim === 'dot_general' || op.prim === 'conv');
  const reductions = ops.filter((op) => REDUCE_COMBINE[op.prim] !== undefined);
  const scatter = ops.find((op) => op.prim === 'scatter_add');
  const window = ops.find((op) => op.prim === 'reduce_window');
  let body: Stmt[];
  // Nothing to write: no loops at all (a loop of extent 0 would still run its hoisted index math,
  // which for a zero-sized dimension divides by zero).
  if (block.results.every((v) => sizeOf(v.type.shape) === 0)) body = [];
  else if (anchor) body = b.contraction(anchor);
  else if (reductions.length) body = b.reduce(reductions);
  else if (scatter) body = b.scatterAdd(scatter);
  else if (window) body = b.reduceWindow(window);
  else body = b.elementwise();
  return b.finish(name, body);
}

/** A block holding one primitive applied to fresh params (the eager one-op kernel). */
export function primitiveBlock(prim: Primitive, inputs: readonly TensorType[], attrs: AnyAttrs, regions: readonly Block[] = []): Block {
  const params = inputs.map((t) => newValue({ dtype: t.dtype, shape: [...t.shape] }));
  const types = inferTypes(prim, [...inputs], attrs as never, regions);
  const results = types.map((t) => newValue(t));
  const op: Op = { prim, operands: params, attrs, results, regions: [...regions] };
  return { params, ops: [op], results };
}
