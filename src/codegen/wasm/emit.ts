// Kernel description -> one binaryen function. Loops become wasm loops; the innermost loop runs
// 4 lanes at a time (f32x4/i32x4) with a scalar tail when all its work has a vector form; values
// that do not change inside a loop are computed before it; a node of the expression DAG used twice
// is computed once. The function takes a pointer per buffer, a scratch pointer and the (start, end)
// range of the kernel's parallel loop. Contractions are emitted by emit_contract.ts.
import type { DType } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import type { AccDecl, Expr, Index, Kernel, Stmt } from '../kernel.js';
import { atomToString, exprChildren } from '../kernel.js';
import { ixCoeff, ixVars } from '../kernel_index.js';
import { combineIdentity } from '../kernel_build.js';
import binaryen from './binaryen.js';
import type { E, Module } from './binaryen.js';
import { FnBuilder, Lanes } from './lanes.js';
import { SCALAR_ONLY_BINARY, emitBinary, emitCast, emitUnary, family } from './emit_ops.js';
import { emitContract, contractScratchBytes } from './emit_contract.js';
import { Helpers } from './math_helpers.js';
import { BYTES_OF, combineLanes, extractLane, laneOffsets, loadScalar, splat, storeScalar, typeOf } from './emit_helpers.js';
import { reciprocalDivisions } from './emit_rewrite.js';

export { BYTES_OF, combineLanes, extractLane, laneOffsets, loadScalar, splat, storeScalar, typeOf };

type LoopStmt = Extract<Stmt, { op: 'loop' }>;
const I32 = binaryen.i32;

export class KernelEmitter {
  readonly m: Module;
  readonly f: FnBuilder;
  readonly S: Lanes;
  readonly V: Lanes;
  /** Loop variable -> local holding it. */
  readonly vars = new Map<string, number>();
  /** Accumulator -> its scalar locals (value, and position for argmax/argmin). */
  readonly accs = new Map<string, { decl: AccDecl; value: number; at: number }>();
  /** Values bound by a template (the contraction sum), by accumulator name and width. */
  readonly bound = new Map<string, { 1?: () => E; 4?: () => E }>();
  private readonly uses = new Map<Expr, number>();
  private readonly deps = new Map<Expr, Set<string>>();
  /** Cache scopes: node -> locals holding its value at width 1 / 4. */
  private readonly scopes: Map<Expr, { 1?: number; 4?: number }>[] = [new Map()];
  /** Cache of index parts (by text) hoisted before a loop. */
  private readonly ixScopes: Map<string, number>[] = [new Map()];
  /** Inner loops run one value at a time (the leftovers of an outer-vectorized loop). */
  private sequentialInner = false;
  /** The variable of the innermost loop being emitted (index parts without it are hoisted). */
  inner: string | null = null;
  readonly scratch: number;
  /** The kernel's statements after emission-level rewrites. */
  private readonly stmts: readonly Stmt[];
  readonly start: number;
  readonly end: number;

  constructor(m: Module, readonly k: Kernel, helpers: Helpers = new Helpers(m)) {
    this.m = m;
    const params = [...k.buffers.map(() => I32), I32, I32, I32];
    this.f = new FnBuilder(m, params, helpers);
    this.S = new Lanes(this.f, 1);
    this.V = new Lanes(this.f, 4);
    this.scratch = k.buffers.length;
    this.start = k.buffers.length + 1;
    this.end = k.buffers.length + 2;
    this.stmts = reciprocalDivisions(k.body);
    for (const s of this.stmts) this.countStmt(s);
    for (const a of k.accs) {
      const t = family(a.dtype) === 'float' ? binaryen.f32 : I32;
      this.accs.set(a.name, { decl: a, value: this.f.local(t), at: this.f.local(I32) });
    }
  }

  /** Scratch bytes the kernel needs (packing buffers of contractions). */
  static scratchBytes(k: Kernel): number {
    let n = 0;
    for (const s of k.body) if (s.op === 'contract') n = Math.max(n, contractScratchBytes(s));
    return n;
  }

  emit(name: string): void {
    const { m, f } = this;
    for (const s of this.stmts) this.stmt(s, true);
    const all = [...f.prologue, ...f.top];
    const body = all.length === 0 ? m.nop() : m.block(null, all);
    m.addFunction(name, binaryen.createType([...f.params]), binaryen.none, f.vars, body);
  }

  // ---- bookkeeping -------------------------------------------------------------------------------

  private countExpr(e: Expr): void {
    const n = (this.uses.get(e) ?? 0) + 1;
    this.uses.set(e, n);
    if (n === 1) exprChildren(e).forEach((c) => this.countExpr(c));
  }
  private countStmt(s: Stmt): void {
    if (s.op === 'loop') s.body.forEach((b) => this.countStmt(b));
    else if (s.op === 'store') {
      this.countExpr(s.value);
      if (s.dynamic) this.countExpr(s.dynamic.value);
    } else if (s.op === 'update') this.countExpr(s.value);
    else if (s.op === 'contract') {
      this.countExpr(s.lhs);
      this.countExpr(s.rhs);
      s.epilogue.forEach((b) => this.countStmt(b));
    }
  }

  /** Loop variables and accumulators an expression depends on. */
  depsOf(e: Expr): Set<string> {
    let d = this.deps.get(e);
    if (d) return d;
    d = new Set<string>();
    if (e.op === 'load' || e.op === 'index') ixVars(e.index, d);
    if (e.op === 'threefry') ixVars(e.counter, d);
    if (e.op === 'guard') for (const c of e.conds) ixVars(c.index, d);
    if (e.op === 'acc') d.add(`acc:${e.name}`);
    for (const c of exprChildren(e)) for (const x of this.depsOf(c)) d.add(x);
    this.deps.set(e, d);
    return d;
  }

  /** Whether e changes along the innermost vector loop (its variable, or a per-lane bound sum). */
  private varies(e: Expr): boolean {
    for (const d of this.depsOf(e)) if (d === this.inner || (d.startsWith('acc:') && this.bound.has(d.slice(4)))) return true;
    return false;
  }

  private lookup(e: Expr, width: 1 | 4): E | null {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const hit = this.scopes[i].get(e)?.[width];
      if (hit !== undefined) return this.m.local.get(hit, width === 4 ? binaryen.v128 : typeOf(e.dtype));
    }
    return null;
  }
  private remember(e: Expr, width: 1 | 4, local: number): void {
    const top = this.scopes[this.scopes.length - 1];
    const entry = top.get(e) ?? {};
    entry[width] = local;
    top.set(e, entry);
  }
  /** Runs fn in a fresh cache scope (a loop body or a guard branch): what it caches dies with it. */
  scoped<T>(fn: () => T): T {
    this.scopes.push(new Map());
    this.ixScopes.push(new Map());
    try {
      return fn();
    } finally {
      this.scopes.pop();
      this.ixScopes.pop();
    }
  }

  // ---- indices -----------------------------------------------------------------------------------

  varGet(name: string): E {
    const l = this.vars.get(name);
    if (l === undefined) throw new KilnError(`internal: wasm: loop variable ${name} is not bound`);
    return this.m.local.get(l, I32);
  }

  bindVar(name: string): number {
    let l = this.vars.get(name);
    if (l === undefined) {
      l = this.f.local(I32);
      this.vars.set(name, l);
    }
    return l;
  }

  /** An index as an i32 expression; the part not involving the innermost loop variable may be hoisted. */
  index(ix: Index): E {
    const m = this.m;
    const v = this.inner;
    if (v !== null) {
      const dep = ix.terms.filter((t) => termUses(t.atom, v));
      if (dep.length && dep.length < ix.terms.length) {
        const inv: Index = { terms: ix.terms.filter((t) => !termUses(t.atom, v)), offset: ix.offset };
        const hit = this.findIx(inv);
        if (hit !== null) return m.i32.add(m.local.get(hit, I32), this.rawIndex({ terms: dep, offset: 0 }));
      }
    }
    return this.rawIndex(ix);
  }
  private findIx(ix: Index | string): number | null {
    const key = typeof ix === 'string' ? ix : JSON.stringify(ix);
    for (let i = this.ixScopes.length - 1; i >= 0; i--) {
      const hit = this.ixScopes[i].get(key);
      if (hit !== undefined) return hit;
    }
    return null;
  }
  /** Computes an index part once, before the loop over `v` (the current scope). */
  hoistIndex(ix: Index, v: string, inside: ReadonlySet<string>): void {
    const inv: Index = { terms: ix.terms.filter((t) => !termUses(t.atom, v)), offset: ix.offset };
    if ([...ixVars(inv)].some((x) => inside.has(x))) return;
    if (inv.terms.length === 0 || inv.terms.length === ix.terms.length || this.findIx(inv) !== null) return;
    const l = this.f.local(I32);
    this.f.push(this.m.local.set(l, this.rawIndex(inv)));
    this.ixScopes[this.ixScopes.length - 1].set(JSON.stringify(inv), l);
  }
  rawIndex(ix: Index): E {
    const m = this.m;
    let acc: E | null = null;
    const add = (e: E) => (acc = acc === null ? e : m.i32.add(acc, e));
    for (const t of ix.terms) {
      const a = t.atom;
      let e: E;
      if ('var' in a) e = this.varGet(a.var);
      else {
        // A div/mod atom is computed once per scope (a guard and its load share them).
        const key = `atom ${atomToString(a)}`;
        let l = this.findIx(key);
        if (l === null) {
          l = this.f.local(I32);
          const v = 'div' in a ? m.i32.div_u(this.rawIndex(a.div), m.i32.const(a.by)) : m.i32.rem_u(this.rawIndex(a.mod), m.i32.const(a.by));
          this.f.push(m.local.set(l, v));
          this.ixScopes[this.ixScopes.length - 1].set(key, l);
        }
        e = m.local.get(l, I32);
      }
      add(t.coeff === 1 ? e : m.i32.mul(e, m.i32.const(t.coeff)));
    }
    if (ix.offset !== 0 || acc === null) add(m.i32.const(ix.offset));
    return acc!;
  }

  /** Byte address of element `index` (+ checked dynamic part) of buffer `buf`. */
  address(buf: number, ix: E, dtype: DType): E {
    const m = this.m;
    const size = BYTES_OF[dtype];
    const scaled = size === 1 ? ix : m.i32.shl(ix, m.i32.const(Math.log2(size)));
    return m.i32.add(m.local.get(buf, I32), scaled);
  }

  /** index + value*scale, trapping when value is outside [0, size) (gather/scatter bounds). */
  dynamicIndex(base: E, d: { value: Expr; scale: number; size: number }): E {
    const m = this.m;
    const v = this.f.let(this.expr(d.value, this.S), I32);
    this.f.push(m.if(m.i32.ge_u(v(), m.i32.const(d.size)), m.unreachable()));
    return m.i32.add(base, d.scale === 1 ? v() : m.i32.mul(v(), m.i32.const(d.scale)));
  }

  // ---- statements --------------------------------------------------------------------------------

  stmt(s: Stmt, top = false): void {
    switch (s.op) {
      case 'loop': return this.loop(s, top && s.parallel === true);
      case 'store': return this.store(s, this.S);
      case 'init': return this.init(s.acc);
      case 'update': return this.update(s.acc, s.value, s.at, this.S);
      case 'contract': return emitContract(this, s, top);
    }
  }

  init(name: string): void {
    const a = this.accs.get(name)!;
    const { m } = this;
    const id = combineIdentity(a.decl.combine, a.decl.dtype);
    this.f.push(m.local.set(a.value, family(a.decl.dtype) === 'float' ? m.f32.const(id) : m.i32.const(id)));
    this.f.push(m.local.set(a.at, m.i32.const(0)));
  }

  /**
   * Runs a list of statements at width L. The values of plain stores are all computed before the
   * first of them is written: an output may share memory with an input (planMemory's in-place
   * reuse), and every element of the inputs must be read before that element is overwritten.
   */
  body(stmts: readonly Stmt[], L: Lanes, vecAcc?: Map<string, number>): void {
    const ready = new Map<Stmt, E>();
    const isPlain = (b: Stmt): b is Extract<Stmt, { op: 'store' }> => b.op === 'store' && !b.dynamic && !b.combine;
    stmts.forEach((b, i) => {
      // At the first store of a run of plain stores, compute the run's values: not earlier, since the
      // statements before it (an accumulator's init and reduction loop) produce what the stores read.
      if (isPlain(b) && !ready.has(b) && i + 1 < stmts.length && isPlain(stmts[i + 1])) {
        for (let j = i; j < stmts.length && isPlain(stmts[j]); j++) {
          const s = stmts[j] as Extract<Stmt, { op: 'store' }>;
          const get = this.f.let(this.expr(s.value, L), L.vec ? binaryen.v128 : typeOf(s.value.dtype));
          ready.set(s, get());
        }
      }
      if (b.op === 'store') this.store(b, L, ready.get(b));
      else if (b.op === 'update') this.update(b.acc, b.value, b.at, L, vecAcc);
      else this.stmt(b);
    });
  }

  store(s: Extract<Stmt, { op: 'store' }>, L: Lanes, computed?: E): void {
    const { m } = this;
    const dtype = s.value.dtype;
    const value = computed ?? this.expr(s.value, L);
    if (L.vec) {
      const c = ixCoeff(s.index, this.inner!);
      const base = this.index(s.index);
      if (c === 1) {
        const addr = this.address(s.buf, base, dtype);
        if (dtype === 'bool') {
          const v = this.f.let(value, binaryen.v128);
          const half = this.f.let(m.i16x8.narrow_i32x4_u(v(), v()), binaryen.v128);
          this.f.push(m.v128.store32_lane(0, 1, 0, addr, m.i8x16.narrow_i16x8_u(half(), half())));
        }
        else this.f.push(m.v128.store(0, 4, addr, value));
        return;
      }
      // Strided store: lane by lane.
      if (c === null) throw new KilnError('internal: wasm: vector store through a non-affine index');
      const v = this.f.let(value, binaryen.v128);
      const b = this.f.let(base, I32);
      for (let j = 0; j < 4; j++) {
        const addr = this.address(s.buf, m.i32.add(b(), m.i32.const(j * c)), dtype);
        this.f.push(storeScalar(m, dtype, addr, extractLane(m, dtype, v(), j)));
      }
      return;
    }
    let ix = this.index(s.index);
    if (s.dynamic) ix = this.dynamicIndex(ix, s.dynamic);
    const addr = this.f.let(this.address(s.buf, ix, dtype), I32);
    if (s.combine === 'sum') {
      const old = loadScalar(m, dtype, addr());
      const sum = family(dtype) === 'float' ? m.f32.add(old, value) : family(dtype) === 'int' ? m.i32.add(old, value) : m.i32.or(old, value);
      this.f.push(storeScalar(m, dtype, addr(), sum));
    } else this.f.push(storeScalar(m, dtype, addr(), value));
  }

  /** Folds a value into an accumulator (scalar locals, or the vector accumulator of a vector loop). */
  update(name: string, e: Expr, at: Index | undefined, L: Lanes, vecAcc?: Map<string, number>): void {
    const { m } = this;
    const a = this.accs.get(name)!;
    const fam = family(a.decl.dtype);
    const v = this.expr(e, L);
    if (L.vec) {
      const l = vecAcc!.get(name)!;
      const cur = m.local.get(l, binaryen.v128);
      const masks = vecAcc!.get(`${name}#nan`);
      if (masks !== undefined) {
        // pmax/pmin (one instruction each; V8 lowers f32x4.max/min to ~8) plus a mask of the lanes
        // that saw a NaN, applied by the fold after the loop. Which zero wins a tie of -0 and +0 is
        // unspecified (the interpreter keeps the first seen, f32x4.max the +0).
        const x = this.f.let(v, binaryen.v128);
        const isMax = a.decl.combine === 'max';
        const g = (k: number) => m.local.get(k, binaryen.v128);
        this.f.push(m.local.set(l, isMax ? m.f32x4.pmax(cur, x()) : m.f32x4.pmin(cur, x())));
        this.f.push(m.local.set(masks, m.v128.or(g(masks), m.f32x4.ne(x(), x()))));
        return;
      }
      this.f.push(m.local.set(l, combineLanes(L, a.decl.combine, fam, cur, v)));
      return;
    }
    const T = fam === 'float' ? binaryen.f32 : I32;
    const cur = m.local.get(a.value, T);
    const c = a.decl.combine;
    if (c === 'argmax' || c === 'argmin') {
      const x = this.f.let(v, T);
      const acc = () => m.local.get(a.value, T);
      let better: E;
      if (fam === 'float') {
        const cmp = c === 'argmax' ? m.f32.gt(x(), acc()) : m.f32.lt(x(), acc());
        // The first NaN wins and then sticks.
        better = m.i32.or(cmp, m.i32.and(m.f32.ne(x(), x()), m.f32.eq(acc(), acc())));
      } else better = c === 'argmax' ? m.i32.gt_s(x(), acc()) : m.i32.lt_s(x(), acc());
      void cur;
      this.f.push(m.if(better, m.block(null, [m.local.set(a.value, x()), m.local.set(a.at, at ? this.index(at) : m.i32.const(0))])));
      return;
    }
    this.f.push(m.local.set(a.value, combineLanes(L, c, fam, cur, v)));
  }

  // ---- loops -------------------------------------------------------------------------------------

  private loop(s: LoopStmt, parallel: boolean): void {
    const { m, f } = this;
    const v = this.bindVar(s.var);
    const lo = parallel ? m.local.get(this.start, I32) : m.i32.const(0);
    const hi = parallel ? m.local.get(this.end, I32) : m.i32.const(s.extent);
    const innermost = s.body.every((b) => b.op !== 'loop' && b.op !== 'contract');
    const vectorize = innermost && !this.sequentialInner && (parallel || s.extent >= 4) && this.vectorizable(s);
    const outer = !innermost && (parallel || s.extent >= 4) && this.inner === null && this.outerVectorizable(s);
    this.hoist(s, vectorize || outer);
    f.push(m.local.set(v, lo));
    const prevInner = this.inner;
    this.inner = innermost || outer ? s.var : null;
    if (vectorize) this.vectorLoop(s, v, hi);
    else if (outer) {
      const end = f.let(hi, I32);
      // 8 vectors (32 values, two cache lines) per step of the strided loops, then single vectors.
      if (parallel || s.extent >= 32) this.outerVectorLoop(s, v, end, 8);
      this.outerVectorLoop(s, v, end, 1);
      this.inner = prevInner;
      // The leftover values fold their inner loops in the same order as a vector lane does, so a
      // result does not depend on where a thread's range starts (1 and 2 threads agree bitwise).
      this.sequentialInner = true;
      this.scalarLoop(s.body, v, end());
      this.sequentialInner = false;
    } else this.scalarLoop(s.body, v, hi);
    this.inner = prevInner;
  }

  /**
   * Whether a loop around reduction loops should run 4 of its own iterations per lane group instead
   * (outer-loop vectorization): a reduction over a non-last axis (sum over rows of a [rows, cols]
   * tensor) reads with a large stride along the reduced variable but contiguously along this one.
   */
  private outerVectorizable(s: LoopStmt): boolean {
    const flat: Stmt[] = [];
    const innerLoads: { ix: Index; v: string }[] = [];
    for (const b of s.body) {
      if (b.op === 'init' || b.op === 'store') {
        if (b.op === 'store') flat.push(b);
        continue;
      }
      if (b.op !== 'loop' || b.parallel || !b.body.every((x) => x.op === 'update' || x.op === 'store')) return false;
      flat.push(...b.body);
      const seen = new Set<Expr>();
      const walk = (e: Expr): void => {
        if (seen.has(e)) return;
        seen.add(e);
        if (e.op === 'load') innerLoads.push({ ix: e.index, v: b.var });
        if (e.op !== 'guard') exprChildren(e).forEach(walk);
      };
      for (const x of b.body) if (x.op === 'update' || x.op === 'store') walk(x.value);
    }
    if (!innerLoads.length) return false;
    // Worth it when the inner loops read with a stride and this loop's lanes are contiguous.
    const strided = innerLoads.some(({ ix, v }) => { const c = ixCoeff(ix, v); return c !== 0 && c !== 1; });
    const contiguous = innerLoads.every(({ ix }) => { const c = ixCoeff(ix, s.var); return c === 0 || c === 1; });
    return strided && contiguous && this.canVectorize(flat, s.var);
  }

  /**
   * Runs the body of `s` for 4 * copies consecutive values of its variable at once: each accumulator
   * is a vector per copy (one lane per value), the inner loops run scalar over their own variables
   * with vector statements for every copy, and the stores after them write the results. Several
   * copies make each step of a strided inner loop use more of the cache line (and page) it touches.
   * The caller finishes with scalars.
   */
  private outerVectorLoop(s: LoopStmt, v: number, hi: () => E, copies: number): void {
    const { m, f, V } = this;
    const brk = f.label('odone');
    const top = f.label('oloop');
    const body = this.scoped(() => f.block(() => {
      const vars = [v, ...Array.from({ length: copies - 1 }, () => f.local(I32))];
      vars.forEach((l, u) => u > 0 && f.push(m.local.set(l, m.i32.add(m.local.get(v, I32), m.i32.const(4 * u)))));
      const vecAccs = vars.map(() => new Map<string, number>());
      // Statements for one copy: its variable and vector accumulators bound, its own cache scope.
      const asCopy = (u: number, fn: () => void) => this.scoped(() => {
        this.vars.set(s.var, vars[u]);
        for (const [name, l] of vecAccs[u]) this.bound.set(name, { 4: () => m.local.get(l, binaryen.v128) });
        try {
          fn();
        } finally {
          this.vars.set(s.var, v);
        }
      });
      const stores: Stmt[] = [];
      const flush = () => {
        if (!stores.length) return;
        const run = stores.splice(0);
        vars.forEach((_, u) => asCopy(u, () => this.body(run, V, vecAccs[u])));
      };
      for (const b of s.body) {
        if (b.op === 'store') {
          stores.push(b);
          continue;
        }
        flush();
        if (b.op === 'init') {
          const a = this.accs.get(b.acc)!;
          const id = combineIdentity(a.decl.combine, a.decl.dtype);
          for (const set of vecAccs) {
            const l = f.local(binaryen.v128);
            f.push(m.local.set(l, family(a.decl.dtype) === 'float' ? V.fc(id) : V.ic(id)));
            set.set(b.acc, l);
          }
        } else if (b.op === 'loop') {
          const r = this.bindVar(b.var);
          f.push(m.local.set(r, m.i32.const(0)));
          const rb = f.label('rdone');
          const rt = f.label('rloop');
          const inner = f.block(() => vars.forEach((_, u) => asCopy(u, () => this.body(b.body, V, vecAccs[u]))));
          f.push(m.block(rb, [m.loop(rt, m.block(null, [
            m.br(rb, m.i32.ge_s(m.local.get(r, I32), m.i32.const(b.extent))),
            inner,
            m.local.set(r, m.i32.add(m.local.get(r, I32), m.i32.const(1))),
            m.br(rt),
          ]))]));
        }
      }
      flush();
      for (const name of vecAccs[0].keys()) this.bound.delete(name);
    }));
    f.push(m.block(brk, [m.loop(top, m.block(null, [
      m.br(brk, m.i32.gt_s(m.i32.add(m.local.get(v, I32), m.i32.const(4 * copies)), hi())),
      body,
      m.local.set(v, m.i32.add(m.local.get(v, I32), m.i32.const(4 * copies))),
      m.br(top),
    ]))]));
  }

  private scalarLoop(body: readonly Stmt[], v: number, hi: E): void {
    const { m, f } = this;
    const brk = f.label('done');
    const top = f.label('loop');
    const inner = this.scoped(() => f.block(() => this.body(body, this.S)));
    f.push(m.block(brk, [m.loop(top, m.block(null, [
      m.br(brk, m.i32.ge_s(m.local.get(v, I32), hi)),
      inner,
      m.local.set(v, m.i32.add(m.local.get(v, I32), m.i32.const(1))),
      m.br(top),
    ]))]));
  }

  private vectorLoop(s: LoopStmt, v: number, hi0: E): void {
    const { m, f, V } = this;
    const hi = f.let(hi0, I32);
    const names = [...new Set(s.body.flatMap((b) => (b.op === 'update' ? [b.acc] : [])))];
    // Reductions keep two vector accumulators (8 lanes per iteration) so that consecutive adds do
    // not wait on each other; plain loops run 4 lanes per iteration.
    const sets = names.length ? 2 : 1;
    const accSets = Array.from({ length: sets }, () => {
      const set = new Map<string, number>();
      for (const name of names) {
        const a = this.accs.get(name)!;
        const l = f.local(binaryen.v128);
        const id = combineIdentity(a.decl.combine, a.decl.dtype);
        f.push(m.local.set(l, family(a.decl.dtype) === 'float' ? V.fc(id) : V.ic(id)));
        set.set(name, l);
        if (family(a.decl.dtype) === 'float' && (a.decl.combine === 'max' || a.decl.combine === 'min')) {
          // The lanes that saw a NaN (pmax/pmin in the loop would drop it).
          const nan = f.local(binaryen.v128);
          f.push(m.local.set(nan, V.ic(0)));
          set.set(`${name}#nan`, nan);
        }
      }
      return set;
    });
    const step = (set: Map<string, number>) => [
      this.scoped(() => f.block(() => this.body(s.body, V, set))),
      m.local.set(v, m.i32.add(m.local.get(v, I32), m.i32.const(4))),
    ];
    const loop = (width: number, body: E[]) => {
      const brk = f.label('vdone');
      const top = f.label('vloop');
      f.push(m.block(brk, [m.loop(top, m.block(null, [
        m.br(brk, m.i32.gt_s(m.i32.add(m.local.get(v, I32), m.i32.const(width)), hi())),
        ...body,
        m.br(top),
      ]))]));
    };
    // Two lane groups per iteration: half the loop overhead, and two independent chains in flight.
    loop(8, [...step(accSets[0]), ...step(accSets[sets - 1])]);
    loop(4, step(accSets[0]));
    // Fold the vector accumulators lane by lane into the scalar one, then finish with scalars.
    for (const name of names) {
      const a = this.accs.get(name)!;
      const fam = family(a.decl.dtype);
      const T = fam === 'float' ? binaryen.f32 : I32;
      let acc = m.local.get(a.value, T);
      for (const set of accSets) {
        const nan = set.get(`${name}#nan`);
        if (nan !== undefined) {
          const l = set.get(name)!;
          const g = (k: number) => m.local.get(k, binaryen.v128);
          f.push(m.local.set(l, m.v128.bitselect(V.fc(NaN), g(l), g(nan))));
        }
        for (let j = 0; j < 4; j++) acc = combineLanes(this.S, a.decl.combine, fam, acc, extractLane(m, fam === 'float' ? 'float32' : 'int32', m.local.get(set.get(name)!, binaryen.v128), j));
      }
      f.push(m.local.set(a.value, acc));
    }
    this.scalarLoop(s.body, v, hi());
  }

  /** Whether every statement of an innermost loop has a vector form. */
  private vectorizable(s: LoopStmt): boolean {
    return this.canVectorize(s.body, s.var);
  }

  /**
   * Whether statements (stores and updates) can run 4 lanes at a time along variable `v`. `lanesAcc`:
   * an accumulator that differs per lane (a contraction epilogue's), so what reads it is not invariant.
   */
  canVectorize(body: readonly Stmt[], v: string, lanesAcc?: string): boolean {
    const ok = (e: Expr, seen: Set<Expr>): boolean => {
      if (seen.has(e)) return true;
      seen.add(e);
      const deps = this.depsOf(e);
      if (!deps.has(v) && !(lanesAcc !== undefined && deps.has(`acc:${lanesAcc}`))) return true; // hoisted and splatted
      switch (e.op) {
        case 'load': if (e.dynamic || ixCoeff(e.index, v) === null) return false; break;
        case 'index': if (ixCoeff(e.index, v) === null) return false; break;
        case 'guard': return false;
        case 'threefry': if (ixCoeff(e.counter, v) === null) return false; break;
        case 'binary': if (SCALAR_ONLY_BINARY[family(e.a.dtype)].has(e.fn)) return false; break;
        default: if (e.dtype === 'float64') return false;
      }
      return exprChildren(e).every((c) => ok(c, seen));
    };
    const seen = new Set<Expr>();
    return body.every((b) => {
      if (b.op === 'store') return !b.dynamic && !b.combine && ixCoeff(b.index, v) !== null && ok(b.value, seen);
      if (b.op === 'update') {
        const c = this.accs.get(b.acc)!.decl.combine;
        return c !== 'argmax' && c !== 'argmin' && ok(b.value, seen);
      }
      return false;
    });
  }

  /**
   * Computes, before the loop, the largest subexpressions that do not change inside it (not looking
   * into guard branches, which may only be valid when taken), plus splats for a vector loop.
   */
  private hoist(s: LoopStmt, vector: boolean): void {
    const inside = new Set<string>();
    const collect = (b: Stmt): void => {
      if (b.op === 'loop') {
        inside.add(b.var);
        b.body.forEach(collect);
      } else if (b.op === 'init' || b.op === 'update') inside.add(`acc:${b.acc}`);
      else if (b.op === 'contract') {
        for (const x of Object.values(b.vars)) inside.add(x);
        inside.add(`acc:${b.acc}`);
      }
    };
    collect(s);
    const invariant = (e: Expr) => [...this.depsOf(e)].every((d) => !inside.has(d));
    const seen = new Set<Expr>();
    const visit = (e: Expr): void => {
      if (seen.has(e)) return;
      seen.add(e);
      if (e.op === 'const') return;
      if (invariant(e)) {
        if (e.op === 'acc' && !vector) return;
        const x = this.expr(e, this.S);
        if (!this.lookup(e, 1) && e.op !== 'acc') this.remember(e, 1, this.localOf(x, typeOf(e.dtype)));
        if (vector && !this.lookup(e, 4)) this.remember(e, 4, this.localOf(splat(this.m, e.dtype, this.expr(e, this.S)), binaryen.v128));
        return;
      }
      if (e.op === 'guard') return;
      exprChildren(e).forEach(visit);
    };
    const indices: Index[] = [];
    const walk = (b: Stmt): void => {
      if (b.op === 'loop') b.body.forEach(walk);
      else if (b.op === 'store') {
        visit(b.value);
        indices.push(b.index);
      } else if (b.op === 'update') visit(b.value);
    };
    s.body.forEach(walk);
    // Loads directly in this loop: hoist their index parts that do not involve the loop variable.
    const loadsIn = (e: Expr, acc: Set<Expr>): void => {
      if (acc.has(e) || invariant(e)) return;
      acc.add(e);
      if (e.op === 'load') indices.push(e.index);
      if (e.op !== 'guard') exprChildren(e).forEach((c) => loadsIn(c, acc));
    };
    const found = new Set<Expr>();
    for (const b of s.body) if (b.op === 'store' || b.op === 'update') loadsIn(b.value, found);
    for (const ix of indices) this.hoistIndex(ix, s.var, inside);
  }

  private localOf(e: E, type: number): number {
    const l = this.f.local(type);
    this.f.push(this.m.local.set(l, e));
    return l;
  }

  // ---- expressions -------------------------------------------------------------------------------

  /** The value of `e` at lane width L (cached by node when used more than once). */
  expr(e: Expr, L: Lanes): E {
    const width = L.width;
    const hit = this.lookup(e, width);
    if (hit !== null) return hit;
    const bound = e.op === 'acc' ? this.bound.get(e.name)?.[width] : undefined;
    if (bound) return bound();
    if (width === 4 && this.inner !== null && e.op !== 'const' && !this.varies(e)) {
      return splat(this.m, e.dtype, this.expr(e, this.S));
    }
    const x = this.compute(e, L);
    if ((this.uses.get(e) ?? 0) > 1 && e.op !== 'const') {
      const l = this.localOf(x, width === 4 ? binaryen.v128 : typeOf(e.dtype));
      this.remember(e, width, l);
      return this.m.local.get(l, width === 4 ? binaryen.v128 : typeOf(e.dtype));
    }
    return x;
  }

  private compute(e: Expr, L: Lanes): E {
    const { m } = this;
    switch (e.op) {
      case 'const':
        return family(e.dtype) === 'float' ? L.fc(e.value) : L.ic(e.value);
      case 'load':
        return this.load(e, L);
      case 'index': {
        const base = this.index(e.index);
        if (!L.vec) return family(e.dtype) === 'float' ? m.f32.convert_s.i32(base) : base;
        const c = ixCoeff(e.index, this.inner!) ?? 0;
        const lanes = m.i32x4.add(m.i32x4.splat(base), laneOffsets(m, c));
        return family(e.dtype) === 'float' ? m.f32x4.convert_i32x4_s(lanes) : lanes;
      }
      case 'unary':
        return emitUnary(L, e.fn, e.x.dtype, this.expr(e.x, L));
      case 'binary':
        return emitBinary(L, e.fn, e.a.dtype, this.expr(e.a, L), this.expr(e.b, L));
      case 'cast':
        return emitCast(L, e.x.dtype, e.dtype, this.expr(e.x, L));
      case 'select': {
        const p = L.boolToMask(this.expr(e.pred, L));
        const a = this.expr(e.a, L);
        const b = this.expr(e.b, L);
        return L.vec ? m.v128.bitselect(a, b, p) : m.select(p, a, b);
      }
      case 'guard': {
        const cond = this.guardCond(e.conds);
        const T = typeOf(e.dtype);
        const then = this.scoped(() => this.f.block(() => this.expr(e.then, this.S), T));
        const other = this.scoped(() => this.f.block(() => this.expr(e.else, this.S), T));
        return m.if(cond, then, other);
      }
      case 'acc': {
        const b = this.bound.get(e.name)?.[L.width];
        if (b !== undefined) return b();
        const a = this.accs.get(e.name);
        if (!a) throw new KilnError(`internal: wasm: accumulator ${e.name} is not declared`);
        const c = a.decl.combine;
        const scalar = c === 'argmax' || c === 'argmin' ? m.local.get(a.at, I32) : m.local.get(a.value, typeOf(a.decl.dtype));
        return L.vec ? splat(m, e.dtype, scalar) : scalar;
      }
      case 'threefry':
        return this.threefry(e, L);
    }
  }

  private guardCond(conds: readonly { index: Index; lo: number; hi: number; step: number }[]): E {
    const { m } = this;
    let cond: E | null = null;
    for (const c of conds) {
      const shifted = this.f.let(m.i32.sub(this.index(c.index), m.i32.const(c.lo)), I32);
      let t = m.i32.le_u(shifted(), m.i32.const(c.hi - c.lo));
      if (c.step !== 1) t = m.i32.and(t, m.i32.eqz(m.i32.rem_u(shifted(), m.i32.const(c.step))));
      cond = cond === null ? t : m.i32.and(cond, t);
    }
    return cond ?? m.i32.const(1);
  }

  private load(e: Extract<Expr, { op: 'load' }>, L: Lanes): E {
    const { m } = this;
    if (!L.vec) {
      let ix = this.index(e.index);
      if (e.dynamic) ix = this.dynamicIndex(ix, e.dynamic);
      return loadScalar(m, e.dtype, this.address(e.buf, ix, e.dtype));
    }
    const c = ixCoeff(e.index, this.inner!) ?? 0;
    const base = this.index(e.index);
    if (c === 0) return splat(m, e.dtype, loadScalar(m, e.dtype, this.address(e.buf, base, e.dtype)));
    if (c === 1) {
      const addr = this.address(e.buf, base, e.dtype);
      if (e.dtype === 'bool') return m.i32x4.extend_low_i16x8_u(m.i16x8.extend_low_i8x16_u(m.v128.load32_zero(0, 1, addr)));
      return m.v128.load(0, 4, addr);
    }
    // Strided gather, lane by lane.
    const b = this.f.let(base, I32);
    let v = splat(m, e.dtype, loadScalar(m, e.dtype, this.address(e.buf, b(), e.dtype)));
    for (let j = 1; j < 4; j++) {
      const x = loadScalar(m, e.dtype, this.address(e.buf, m.i32.add(b(), m.i32.const(j * c)), e.dtype));
      v = family(e.dtype) === 'float' ? m.f32x4.replace_lane(v, j, x) : m.i32x4.replace_lane(v, j, x);
    }
    return v;
  }

  /** threefry2x32 (20 rounds) of (counter, 0) under the key; word 0, as in src/ir/threefry.ts. */
  private threefry(e: Extract<Expr, { op: 'threefry' }>, L: Lanes): E {
    const k0 = L.ilet(this.expr(e.key0, L));
    const k1 = L.ilet(this.expr(e.key1, L));
    const k2 = L.ilet(L.ixor(L.ixor(L.ic(0x1bd11bda), k0()), k1()));
    const ks = [k0, k1, k2];
    let counter = this.index(e.counter);
    if (L.vec) counter = this.m.i32x4.add(this.m.i32x4.splat(counter), laneOffsets(this.m, ixCoeff(e.counter, this.inner!) ?? 0));
    let a = L.ilet(L.iadd(counter, k0()));
    let b = L.ilet(k1());
    const ROT = [13, 15, 26, 6, 17, 29, 16, 24];
    for (let round = 0; round < 20; round++) {
      a = L.ilet(L.iadd(a(), b()));
      b = L.ilet(L.ixor(L.irotl(b(), ROT[round % 8]), a()));
      if (round % 4 === 3) {
        const s = (round + 1) / 4;
        a = L.ilet(L.iadd(a(), ks[s % 3]()));
        b = L.ilet(L.iadd(b(), L.iadd(ks[(s + 1) % 3](), L.ic(s))));
      }
    }
    return a();
  }
}

function termUses(a: import('../kernel.js').IndexAtom, v: string): boolean {
  if ('var' in a) return a.var === v;
  return ixVars('div' in a ? a.div : a.mod).has(v);
}

