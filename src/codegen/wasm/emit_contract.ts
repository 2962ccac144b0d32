// The contraction template as wasm: acc(b, m, n) = sum_k lhs(b, m, k) * rhs(b, k, n), then the
// fused epilogue. float32 runs a register-blocked SIMD kernel: rhs is packed per batch into panels
// of 8 columns ([n/8][k][8], zero padded), lhs is read in place when its rows are contiguous in k
// (otherwise packed row by row), and a 4x8 block of C lives in 8 f32x4 accumulators over the whole
// k loop before the epilogue runs on it (one relaxed_madd per pair where the engine has relaxed
// SIMD). Rows go in L2-sized chunks, each panel reused by the chunk's row blocks. conv's im2col
// panels are packed 4 lanes at a time (emit_pack.ts). Other dtypes use a plain triple loop. The
// parallel range covers the flattened (b, m) rows, read as tiles of rows x column groups so that
// threads split the columns and each packs only its share of rhs (see colGroups).
import { KilnError } from '../../ir/error.js';
import type { ContractStmt, Expr, Index } from '../kernel.js';
import { exprChildren } from '../kernel.js';
import { ixCoeff } from '../kernel_index.js';
import binaryen from './binaryen.js';
import type { E, Module } from './binaryen.js';
import type { KernelEmitter } from './emit.js';
import { tuning } from './lanes.js';
import { narrowPlan, narrowRow, panelPlan, panelRow, panelWrapAt } from './emit_pack.js';

const I32 = binaryen.i32;
const V128 = binaryen.v128;
const NR = 8;


/** Whether the module being emitted may use relaxed SIMD's fused multiply-add (compile.ts sets it). */
let fusedMultiplyAdd = false;

export function withFusedMultiplyAdd<T>(on: boolean, f: () => T): T {
  const prev = fusedMultiplyAdd;
  fusedMultiplyAdd = on && tuning.fma;
  try {
    return f();
  } finally {
    fusedMultiplyAdd = prev;
  }
}

/** acc + a*b: f32x4.relaxed_madd when allowed (one instruction), else a multiply and an add. */
function madd(m: Module, a: E, b: E, acc: E): E {
  if (!fusedMultiplyAdd) return m.f32x4.add(acc, m.f32x4.mul(a, b));
  const raw = binaryen as unknown as { _BinaryenSIMDTernary(mod: number, op: number, a: E, b: E, c: E): E; RelaxedMaddVecF32x4: number };
  return raw._BinaryenSIMDTernary((m as unknown as { ptr: number }).ptr, raw.RelaxedMaddVecF32x4, a, b, acc);
}

/** Whether `e` is a plain load whose index moves by one element per step of variable `v`. */
function contiguousLoad(e: Expr, v: string): e is Extract<Expr, { op: 'load' }> {
  return e.op === 'load' && !e.dynamic && ixCoeff(e.index, v) === 1;
}

/** Every index an expression reads (loads, guard conditions, index values). */
function indicesOf(e: Expr, out: Index[] = [], seen = new Set<Expr>()): Index[] {
  if (seen.has(e)) return out;
  seen.add(e);
  if (e.op === 'load' || e.op === 'index') out.push(e.index);
  if (e.op === 'guard') for (const c of e.conds) out.push(c.index);
  for (const c of exprChildren(e)) indicesOf(c, out, seen);
  return out;
}

/** Up to this many rows, rhs is read in place (row-major in n) rather than packed: packing would cost as much as the multiply. */
const DIRECT_RHS_ROWS = 16;

/** Whether rhs is read in place (full panels), with only the partial last panel packed. */
function directRhs(s: ContractStmt): boolean {
  return s.extents.m * s.extents.b <= DIRECT_RHS_ROWS * s.extents.b && s.extents.m <= DIRECT_RHS_ROWS
    && contiguousLoad(s.rhs, s.vars.n) && ixCoeff(s.rhs.index, s.vars.k) !== null;
}

function packsLhs(s: ContractStmt): boolean {
  return !contiguousLoad(s.lhs, s.vars.k) || ixCoeff((s.lhs as Extract<Expr, { op: 'load' }>).index, s.vars.m) === null;
}

/**
 * Rows per chunk of the blocked loop order (0: plain order): as many as keep the chunk's lhs rows
 * within `tuning.chunkBytes` (a share of L2), a multiple of the register block.
 */
function rowChunk(s: ContractStmt): number {
  const mr = tuning.mr;
  if (!tuning.chunkBytes || directRhs(s) || s.extents.m < 2 * mr) return 0;
  const rows = Math.floor(tuning.chunkBytes / (Math.max(1, s.extents.k) * 4) / mr) * mr;
  return Math.max(mr, Math.min(rows, 512));
}

export function contractScratchBytes(s: ContractStmt): number {
  if (s.dtype !== 'float32') return 0;
  const { m, n, k } = s.extents;
  const panels = directRhs(s) ? (n % NR ? 1 : 0) : Math.ceil(n / NR);
  const b = panels * NR * k * 4;
  const a = packsLhs(s) ? m * k * 4 : 0;
  return b + a + tuning.mr * NR * 4 + 64;
}

export function emitContract(E: KernelEmitter, s: ContractStmt, top: boolean): void {
  if (s.dtype === 'float32') emitF32(E, s, top);
  else emitGeneric(E, s, top);
}

/** for v in [lo, hi) { body } with a fresh cache scope for the body. */
function forLoop(E: KernelEmitter, v: number, lo: E, hi: E, body: () => void, step = 1): void {
  const { m, f } = E;
  const brk = f.label('cdone');
  const top = f.label('cloop');
  f.push(m.local.set(v, lo));
  const inner = E.scoped(() => f.block(body));
  f.push(m.block(brk, [m.loop(top, m.block(null, [
    m.br(brk, m.i32.ge_s(m.local.get(v, I32), hi)),
    inner,
    m.local.set(v, m.i32.add(m.local.get(v, I32), m.i32.const(step))),
    m.br(top),
  ]))]));
}

/** The rows [lo, hi) of the flattened (b, m) space this call computes. */
function rowRange(E: KernelEmitter, s: ContractStmt, top: boolean): { lo: () => E; hi: () => E } {
  const { m } = E;
  const rows = s.extents.b * s.extents.m;
  if (!top) return { lo: () => m.i32.const(0), hi: () => m.i32.const(rows) };
  return { lo: () => m.local.get(E.start, I32), hi: () => m.local.get(E.end, I32) };
}

/** Scalar triple loop (int32 contractions). */
function emitGeneric(E: KernelEmitter, s: ContractStmt, top: boolean): void {
  const { m, f, S } = E;
  const { vars, extents } = s;
  const row = f.local(I32);
  const bv = E.bindVar(vars.b);
  const mv = E.bindVar(vars.m);
  const nv = E.bindVar(vars.n);
  const kv = E.bindVar(vars.k);
  const acc = E.accs.get(s.acc)!;
  const { lo, hi } = rowRange(E, s, top);
  forLoop(E, row, lo(), hi(), () => {
    f.push(m.local.set(bv, m.i32.div_u(m.local.get(row, I32), m.i32.const(extents.m))));
    f.push(m.local.set(mv, m.i32.rem_u(m.local.get(row, I32), m.i32.const(extents.m))));
    forLoop(E, nv, m.i32.const(0), m.i32.const(extents.n), () => {
      f.push(m.local.set(acc.value, m.i32.const(0)));
      forLoop(E, kv, m.i32.const(0), m.i32.const(extents.k), () => {
        const prod = m.i32.mul(E.expr(s.lhs, S), E.expr(s.rhs, S));
        f.push(m.local.set(acc.value, m.i32.add(m.local.get(acc.value, I32), prod)));
      });
      E.body(s.epilogue, S);
    });
  });
}

function emitF32(E: KernelEmitter, s: ContractStmt, top: boolean): void {
  const { m, f, S, V } = E;
  const { vars, extents } = s;
  const { m: M, n: N, k: K } = extents;
  if (K === 0 || N === 0) return emitGeneric32(E, s, top);
  const panels = Math.ceil(N / NR);
  const direct = directRhs(s);
  const bPackBytes = (direct ? (N % NR ? 1 : 0) : panels) * NR * K * 4;
  const row = f.local(I32);
  const bv = E.bindVar(vars.b);
  const mv = E.bindVar(vars.m);
  const nv = E.bindVar(vars.n);
  const kv = E.bindVar(vars.k);
  const curB = f.local(I32); // batch whose rhs is packed now (-1: none)
  const get = (l: number) => m.local.get(l, I32);
  const scratch = () => m.local.get(E.scratch, I32);
  const packA = packsLhs(s);
  const aPack = () => m.i32.add(scratch(), m.i32.const(bPackBytes));
  const tileOffset = Math.ceil((bPackBytes + (packA ? M * K * 4 : 0)) / 16) * 16;
  // lhs element (b, m, k) address: in place (row stride, contiguous k) or in the pack ([m][k]).
  let aRowBytes: number;
  let aAddr: (mRow: E) => E;
  if (!packA) {
    const lhs = s.lhs as Extract<Expr, { op: 'load' }>;
    aRowBytes = ixCoeff(lhs.index, vars.m)! * 4;
    aAddr = (mRow) => {
      // The lhs address of (b, mRow, 0).
      f.push(m.local.set(mv, mRow));
      f.push(m.local.set(kv, m.i32.const(0)));
      return E.address(lhs.buf, E.rawIndex(lhs.index), 'float32');
    };
  } else {
    aRowBytes = K * 4;
    aAddr = (mRow) => m.i32.add(aPack(), m.i32.mul(mRow, m.i32.const(K * 4)));
  }

  // Column groups (see colGroups): group g computes panels [pLo, pHi) for its rows [rowLo, rowHi).
  const G = top ? colGroups(s) : 1;
  const pLo = f.local(I32);
  const pHi = f.local(I32);
  const rowLo = f.local(I32);
  const rowHi = f.local(I32);
  const lo = () => get(rowLo);
  const hi = () => get(rowHi);
  const range = rowRange(E, s, top);
  const rowEnd = f.local(I32); // end of the current batch's rows within [lo, hi)
  const rowsOfGroup = () => forLoop(E, row, lo(), hi(), () => {
    f.push(m.local.set(bv, m.i32.div_u(get(row), m.i32.const(M))));
    f.push(m.local.set(rowEnd, m.i32.mul(m.i32.add(get(bv), m.i32.const(1)), m.i32.const(M))));
    f.push(m.if(m.i32.gt_s(get(rowEnd), hi()), m.local.set(rowEnd, hi())));
    // Pack rhs for this batch (once per batch) and, when needed, lhs rows [row, rowEnd).
    f.push(m.if(m.i32.ne(get(curB), get(bv)), E.scoped(() => f.block(() => {
      packRhs(E, s, scratch, direct, pLo, pHi);
      f.push(m.local.set(curB, get(bv)));
    }))));
    if (packA) E.scoped(() => packLhs(E, s, get(row), get(rowEnd), aPack));
    // Row blocks of 4, then single rows.
    const mLocal = f.local(I32);
    f.push(m.local.set(mLocal, m.i32.rem_u(get(row), m.i32.const(M))));
    const mEnd = f.local(I32);
    f.push(m.local.set(mEnd, m.i32.sub(get(rowEnd), m.i32.mul(get(bv), m.i32.const(M)))));
    const aRow = () => (packA ? aAddr(m.i32.sub(get(mLocal), m.i32.rem_u(get(row), m.i32.const(M)))) : aAddr(get(mLocal)));
    const mc = rowChunk(s);
    if (mc > 0) {
      // Chunks of mc rows: each panel of rhs is loaded once per chunk and reused from cache by the
      // chunk's row blocks, instead of all of rhs streaming through the cache once per row block.
      const mr = tuning.mr;
      const rc = f.local(I32);
      const rcEnd = f.local(I32);
      const ap = f.local(I32);
      const brk = f.label('chunks');
      const loop = f.label('chunkl');
      f.push(m.local.set(rc, get(mLocal)));
      const body = E.scoped(() => f.block(() => {
        // A thunk, not a node: binaryen IR is a tree, and a node with two parents is rewritten in place by the optimizer.
        const whole = () => m.i32.mul(m.i32.div_u(m.i32.sub(get(mEnd), get(rc)), m.i32.const(mr)), m.i32.const(mr));
        f.push(m.local.set(rcEnd, m.i32.add(get(rc), whole())));
        f.push(m.if(m.i32.gt_s(whole(), m.i32.const(mc)), m.local.set(rcEnd, m.i32.add(get(rc), m.i32.const(mc)))));
        microPanels(E, s, mr, ap, aRowBytes, scratch, mLocal, mv, nv, pLo, pHi, tileOffset, direct, (tileBody) => {
          forLoop(E, mLocal, get(rc), get(rcEnd), () => {
            f.push(m.local.set(ap, aRow()));
            tileBody();
          }, mr);
        });
        f.push(m.local.set(rc, get(rcEnd)));
      }));
      f.push(m.block(brk, [m.loop(loop, m.block(null, [
        m.br(brk, m.i32.gt_s(m.i32.add(get(rc), m.i32.const(mr)), get(mEnd))),
        body,
        m.br(loop),
      ]))]));
      f.push(m.local.set(mLocal, get(rc)));
    }
    for (const mr of mc > 0 ? [1] : [tuning.mr, 1]) {
      const brk = f.label('rows');
      const loop = f.label('rowl');
      const body = E.scoped(() => f.block(() => {
        const ap = f.local(I32);
        f.push(m.local.set(ap, aRow()));
        microPanels(E, s, mr, ap, aRowBytes, scratch, mLocal, mv, nv, pLo, pHi, tileOffset, direct);
        f.push(m.local.set(mLocal, m.i32.add(get(mLocal), m.i32.const(mr))));
      }));
      f.push(m.block(brk, [m.loop(loop, m.block(null, [
        m.br(brk, m.i32.gt_s(m.i32.add(get(mLocal), m.i32.const(mr)), get(mEnd))),
        body,
        m.br(loop),
      ]))]));
    }
    // Continue after this batch's rows.
    f.push(m.local.set(row, m.i32.sub(get(rowEnd), m.i32.const(1))));
  });
  if (G === 1) {
    f.push(m.local.set(rowLo, range.lo()));
    f.push(m.local.set(rowHi, range.hi()));
    f.push(m.local.set(pLo, m.i32.const(0)));
    f.push(m.local.set(pHi, m.i32.const(panels)));
    f.push(m.local.set(curB, m.i32.const(-1)));
    rowsOfGroup();
  } else {
    // The parallel range [0, R) of rows is read as R tiles: tile t is rows [(t mod H)*G, +G) of
    // column group t div H (H = ceil(R/G) tiles per group), so a thread's share of the range is a
    // share of the columns and it packs only those panels of rhs. The call whose range ends at R
    // also takes the tiles past R (G*H may exceed R).
    const R = s.extents.b * M;
    const H = Math.ceil(R / G);
    const per = Math.ceil(panels / G);
    const t0 = f.local(I32);
    const t1 = f.local(I32);
    f.push(m.local.set(t0, range.lo()));
    f.push(m.local.set(t1, range.hi()));
    if (G * H > R) f.push(m.if(m.i32.eq(get(t1), m.i32.const(R)), m.local.set(t1, m.i32.const(G * H))));
    const g = f.local(I32);
    const min = (x: () => E, y: number) => m.select(m.i32.gt_s(x(), m.i32.const(y)), m.i32.const(y), x());
    const clamp = (x: () => E) => m.select(m.i32.lt_s(x(), m.i32.const(0)), m.i32.const(0), min(x, H));
    forLoop(E, g, m.i32.const(0), m.i32.const(G), () => {
      const gH = () => m.i32.mul(get(g), m.i32.const(H));
      f.push(m.local.set(rowLo, m.i32.mul(clamp(() => m.i32.sub(get(t0), gH())), m.i32.const(G))));
      f.push(m.local.set(rowHi, min(() => m.i32.mul(clamp(() => m.i32.sub(get(t1), gH())), m.i32.const(G)), R)));
      f.push(m.local.set(pLo, min(() => m.i32.mul(get(g), m.i32.const(per)), panels)));
      f.push(m.local.set(pHi, min(() => m.i32.mul(m.i32.add(get(g), m.i32.const(1)), m.i32.const(per)), panels)));
      f.push(m.local.set(curB, m.i32.const(-1)));
      rowsOfGroup();
    });
  }
  void S;
  void V;
}

/**
 * How many column groups the parallel range is split into (1: rows only). Threads that split rows
 * each pack all of rhs; splitting columns instead packs each panel once but each thread then packs
 * lhs for all rows when lhs needs packing. Two groups when rhs is packed and it is the larger pack.
 */
function colGroups(s: ContractStmt): number {
  const { m: M, n: N } = s.extents;
  if (tuning.colGroups <= 1 || directRhs(s) || N <= NR) return 1;
  return packsLhs(s) && M >= N ? 1 : tuning.colGroups;
}

/** float32 but degenerate (K = 0 or N = 0): the epilogue sees a zero sum. */
function emitGeneric32(E: KernelEmitter, s: ContractStmt, top: boolean): void {
  const { m, f } = E;
  const { vars, extents } = s;
  const row = f.local(I32);
  const bv = E.bindVar(vars.b);
  const mv = E.bindVar(vars.m);
  const nv = E.bindVar(vars.n);
  const acc = E.accs.get(s.acc)!;
  const { lo, hi } = rowRange(E, s, top);
  forLoop(E, row, lo(), hi(), () => {
    f.push(m.local.set(bv, m.i32.div_u(m.local.get(row, I32), m.i32.const(extents.m))));
    f.push(m.local.set(mv, m.i32.rem_u(m.local.get(row, I32), m.i32.const(extents.m))));
    forLoop(E, nv, m.i32.const(0), m.i32.const(extents.n), () => {
      f.push(m.local.set(acc.value, m.f32.const(0)));
      E.body(s.epilogue, E.S);
    });
  });
}

/** rhs(b, k, n) into [panel][k][8] at the scratch start, zero past N. */
function packRhs(E: KernelEmitter, s: ContractStmt, scratch: () => E, onlyTail: boolean, pLo: number, pHi: number): void {
  const { m, f, S } = E;
  const { vars, extents } = s;
  const { n: N, k: K } = extents;
  const nv = E.bindVar(vars.n);
  const kv = E.bindVar(vars.k);
  const p = f.local(I32);
  const j = f.local(I32);
  const dst = f.local(I32);
  const get = (l: number) => m.local.get(l, I32);
  const full = Math.floor(N / NR);
  const direct = contiguousLoad(s.rhs, vars.n) ? s.rhs : null;
  // Panel p lives at p*K*NR floats (the partial last one at 0 when the full ones are read in place).
  f.push(m.local.set(dst, onlyTail ? scratch() : m.i32.add(scratch(), m.i32.mul(get(pLo), m.i32.const(K * NR * 4)))));
  // conv's im2col view: whole k rows of a panel as vectors where the image allows (emit_pack.ts).
  const plan = direct || !tuning.vectorPack ? null : panelPlan(s.rhs, vars.n, NR);
  const narrow = direct || plan || onlyTail || !tuning.vectorPack ? null : narrowPlan(s.rhs, vars.n, N, NR);
  if (narrow) {
    // One or two panels: each unrolled, its lanes' n parts known here (conv's weight gradient).
    narrow.lanes.forEach((_, pp) => {
      const mine = m.i32.and(m.i32.le_s(get(pLo), m.i32.const(pp)), m.i32.gt_s(get(pHi), m.i32.const(pp)));
      f.push(m.if(mine, E.scoped(() => f.block(() => {
        f.push(m.local.set(dst, m.i32.add(scratch(), m.i32.const(pp * K * NR * 4))));
        forLoop(E, kv, m.i32.const(0), m.i32.const(K), () => {
          narrowRow(E, narrow, pp, () => get(dst));
          f.push(m.local.set(dst, m.i32.add(get(dst), m.i32.const(NR * 4))));
        });
      }))));
    });
    return;
  }
  const wrapAt = f.local(I32);
  // Full panels (unless rhs is read in place).
  const fullHi = f.local(I32);
  f.push(m.local.set(fullHi, m.select(m.i32.lt_s(get(pHi), m.i32.const(full)), get(pHi), m.i32.const(full))));
  if (!onlyTail) forLoop(E, p, get(pLo), get(fullHi), () => {
    if (plan) f.push(m.local.set(wrapAt, panelWrapAt(E, plan, () => m.i32.mul(get(p), m.i32.const(NR)), NR)));
    forLoop(E, kv, m.i32.const(0), m.i32.const(K), () => {
      f.push(m.local.set(nv, m.i32.mul(get(p), m.i32.const(NR))));
      if (direct) {
        const src = f.let(E.address(direct.buf, E.rawIndex(direct.index), 'float32'), I32);
        f.push(m.v128.store(0, 4, get(dst), m.v128.load(0, 4, src())));
        f.push(m.v128.store(16, 4, get(dst), m.v128.load(16, 4, src())));
      } else {
        // The index parts that do not involve n are computed once per k, not once per column
        // (conv's im2col view: channel and tap offsets).
        for (const ix of indicesOf(s.rhs)) E.hoistIndex(ix, vars.n, new Set([vars.n]));
        const prevInner = E.inner;
        E.inner = vars.n;
        if (plan) E.scoped(() => panelRow(E, plan, NR, wrapAt, () => get(dst)));
        else {
          for (let jj = 0; jj < NR; jj++) {
            E.scoped(() => {
              f.push(m.f32.store(jj * 4, 4, get(dst), E.expr(s.rhs, S)));
            });
            f.push(m.local.set(nv, m.i32.add(get(nv), m.i32.const(1))));
          }
        }
        E.inner = prevInner;
      }
      f.push(m.local.set(dst, m.i32.add(get(dst), m.i32.const(NR * 4))));
    });
  });
  if (N % NR !== 0) {
    f.push(m.if(m.i32.gt_s(get(pHi), m.i32.const(full)), E.scoped(() => f.block(() => packTail()))));
  }
  function packTail(): void {
    forLoop(E, kv, m.i32.const(0), m.i32.const(K), () => {
      forLoop(E, j, m.i32.const(0), m.i32.const(NR), () => {
        f.push(m.local.set(nv, m.i32.add(m.i32.const(full * NR), get(j))));
        const value = E.scoped(() => f.block(() => E.expr(s.rhs, S), binaryen.f32));
        const addr = m.i32.add(get(dst), m.i32.shl(get(j), m.i32.const(2)));
        f.push(m.f32.store(0, 4, addr, m.if(m.i32.lt_s(get(nv), m.i32.const(N)), value, m.f32.const(0))));
      });
      f.push(m.local.set(dst, m.i32.add(get(dst), m.i32.const(NR * 4))));
    });
  }
}

/** lhs rows [rowLo, rowHi) of the current batch into [m][k] (generic element by element). */
function packLhs(E: KernelEmitter, s: ContractStmt, rowLo: E, rowHi: E, aPack: () => E): void {
  const { m, f, S } = E;
  const { vars, extents } = s;
  const mv = E.bindVar(vars.m);
  const kv = E.bindVar(vars.k);
  const r = f.local(I32);
  const dst = f.local(I32);
  const get = (l: number) => m.local.get(l, I32);
  f.push(m.local.set(dst, aPack()));
  forLoop(E, r, rowLo, rowHi, () => {
    f.push(m.local.set(mv, m.i32.rem_u(get(r), m.i32.const(extents.m))));
    forLoop(E, kv, m.i32.const(0), m.i32.const(extents.k), () => {
      f.push(m.f32.store(0, 4, get(dst), E.expr(s.lhs, S)));
      f.push(m.local.set(dst, m.i32.add(get(dst), m.i32.const(4))));
    });
  });
}

/**
 * For `mr` rows starting at row mLocal (lhs at `ap`, rows `aRowBytes` apart, k contiguous): every
 * panel of 8 columns, accumulating over all k in registers. The block then goes to a small tile in
 * scratch memory, and the epilogue runs once per element (or per 4 lanes) as a loop over that tile,
 * so its code exists once rather than once per register.
 */
function microPanels(
  E: KernelEmitter, s: ContractStmt, mr: number, ap: number, aRowBytes: number,
  scratch: () => E, mLocal: number, mv: number, nv: number, pLo: number, pHi: number, tileOffset: number, direct: boolean,
  rowsOfPanel?: (tileBody: () => void) => void,
): void {
  const { m, f } = E;
  const { vars, extents } = s;
  const { n: N, k: K } = extents;
  const get = (l: number) => m.local.get(l, I32);
  const p = f.local(I32);
  const bp = f.local(I32);
  const bStep = f.local(I32);
  const a = f.local(I32);
  const kk = f.local(I32);
  const acc: number[][] = Array.from({ length: mr }, () => [f.local(V128), f.local(V128)]);
  const tile = () => m.i32.add(scratch(), m.i32.const(tileOffset));
  const vecOk = E.canVectorize(s.epilogue, vars.n, s.acc);
  forLoop(E, p, get(pLo), get(pHi), () => (rowsOfPanel ? rowsOfPanel(() => E.scoped(() => f.push(f.block(tileBody)))) : tileBody()));
  function tileBody(): void {
    for (const row of acc) for (const l of row) f.push(m.local.set(l, m.v128.const(new Array(16).fill(0))));
    if (direct) {
      // Full panels straight from rhs (row k at kStride bytes); the partial last one from the pack.
      const rhs = s.rhs as Extract<Expr, { op: 'load' }>;
      const kv = E.bindVar(vars.k);
      const fullPanel = m.i32.lt_s(get(p), m.i32.const(Math.floor(N / NR)));
      const inPlace = E.scoped(() => f.block(() => {
        f.push(m.local.set(nv, m.i32.mul(get(p), m.i32.const(NR))));
        f.push(m.local.set(kv, m.i32.const(0)));
        f.push(m.local.set(bp, E.address(rhs.buf, E.rawIndex(rhs.index), 'float32')));
        f.push(m.local.set(bStep, m.i32.const(ixCoeff(rhs.index, vars.k)! * 4)));
      }));
      const packed = m.block(null, [m.local.set(bp, scratch()), m.local.set(bStep, m.i32.const(NR * 4))]);
      f.push(m.if(fullPanel, inPlace, packed));
    } else {
      f.push(m.local.set(bp, m.i32.add(scratch(), m.i32.mul(get(p), m.i32.const(K * NR * 4)))));
      f.push(m.local.set(bStep, m.i32.const(NR * 4)));
    }
    f.push(m.local.set(a, get(ap)));
    // The k loop: two f32x4 of the panel, one splat of lhs per row, 2*mr multiply-adds per k,
    // unrolled `tuning.kUnroll` times, then single steps for the remainder.
    const b0 = f.local(V128);
    const b1 = f.local(V128);
    const av = f.local(V128);
    const kStep = (u: number): E[] => {
      const out: E[] = [];
      out.push(m.local.set(b0, m.v128.load(u * NR * 4, 4, get(bp))));
      out.push(m.local.set(b1, m.v128.load(u * NR * 4 + 16, 4, get(bp))));
      for (let i = 0; i < mr; i++) {
        out.push(m.local.set(av, m.v128.load32_splat(i * aRowBytes + u * 4, 4, get(a))));
        out.push(m.local.set(acc[i][0], madd(m, m.local.get(av, V128), m.local.get(b0, V128), m.local.get(acc[i][0], V128))));
        out.push(m.local.set(acc[i][1], madd(m, m.local.get(av, V128), m.local.get(b1, V128), m.local.get(acc[i][1], V128))));
      }
      return out;
    };
    f.push(m.local.set(kk, m.i32.const(0)));
    for (const unroll of tuning.kUnroll > 1 && !direct ? [tuning.kUnroll, 1] : [1]) {
      const brk = f.label('kdone');
      const loop = f.label('kloop');
      const body: E[] = [m.br(brk, m.i32.gt_s(m.i32.add(get(kk), m.i32.const(unroll)), m.i32.const(K)))];
      for (let u = 0; u < unroll; u++) body.push(...kStep(u));
      body.push(m.local.set(bp, m.i32.add(get(bp), unroll === 1 ? get(bStep) : m.i32.mul(get(bStep), m.i32.const(unroll)))));
      body.push(m.local.set(a, m.i32.add(get(a), m.i32.const(unroll * 4))));
      body.push(m.local.set(kk, m.i32.add(get(kk), m.i32.const(unroll))));
      body.push(m.br(loop));
      f.push(m.block(brk, [m.loop(loop, m.block(null, body))]));
    }
    for (let i = 0; i < mr; i++) for (let h = 0; h < 2; h++) f.push(m.v128.store(i * 32 + h * 16, 16, tile(), m.local.get(acc[i][h], V128)));
    // The epilogue over the tile: rows i, then 4 lanes at a time on a full panel, else element-wise.
    const i = f.local(I32);
    const j = f.local(I32);
    const full = m.i32.le_s(m.i32.mul(m.i32.add(get(p), m.i32.const(1)), m.i32.const(NR)), m.i32.const(N));
    const scalar = E.scoped(() => f.block(() => {
      forLoop(E, i, m.i32.const(0), m.i32.const(mr), () => {
        f.push(m.local.set(mv, m.i32.add(get(mLocal), get(i))));
        forLoop(E, j, m.i32.const(0), m.i32.const(NR), () => {
          f.push(m.local.set(nv, m.i32.add(m.i32.mul(get(p), m.i32.const(NR)), get(j))));
          const addr = m.i32.add(tile(), m.i32.shl(m.i32.add(m.i32.mul(get(i), m.i32.const(NR)), get(j)), m.i32.const(2)));
          const lane = E.scoped(() => f.block(() => {
            const value = f.let(m.f32.load(0, 4, addr), binaryen.f32);
            E.bound.set(s.acc, { 1: value });
            E.body(s.epilogue, E.S);
            E.bound.delete(s.acc);
          }));
          f.push(m.if(m.i32.lt_s(get(nv), m.i32.const(N)), lane));
        });
      });
    }));
    if (!vecOk) {
      f.push(scalar);
      return;
    }
    const vector = E.scoped(() => f.block(() => {
      forLoop(E, i, m.i32.const(0), m.i32.const(mr), () => {
        f.push(m.local.set(mv, m.i32.add(get(mLocal), get(i))));
        forLoop(E, j, m.i32.const(0), m.i32.const(2), () => {
          f.push(m.local.set(nv, m.i32.add(m.i32.mul(get(p), m.i32.const(NR)), m.i32.shl(get(j), m.i32.const(2)))));
          const addr = m.i32.add(tile(), m.i32.shl(m.i32.add(m.i32.mul(get(i), m.i32.const(NR)), m.i32.shl(get(j), m.i32.const(2))), m.i32.const(2)));
          const value = f.let(m.v128.load(0, 16, addr), V128);
          E.bound.set(s.acc, { 4: value });
          const prevInner = E.inner;
          E.inner = vars.n;
          if (s.epilogue.some((st) => st.op !== 'store')) throw new KilnError('internal: wasm: contraction epilogues hold stores only');
          E.body(s.epilogue, E.V);
          E.inner = prevInner;
          E.bound.delete(s.acc);
        });
      });
    }));
    f.push(m.if(full, vector, scalar));
  }
}
