// fuse: groups the ops of each block into kernels, each written as a `fusion` op whose one region
// computes the kernel (operands = kernel inputs = region params, results = kernel outputs).
//
// The grouping walks ops from last to first, so when an op is placed every reader of its results is
// already placed (XLA's consumer-first order). An op then joins the kernel of its readers when
// fusion_rules.kernelKind accepts the enlarged kernel:
//   - leaves and movement ops are copied into every reading kernel (index arithmetic, no buffer);
//   - any other op is owned by one kernel only, so reductions and contractions are never recomputed:
//     a value read by several kernels is computed once and written out (materialized), and when it
//     joins one of its readers' kernels it becomes an extra output of that kernel (no cycle allowed);
//   - control-flow ops stay at the top level; their regions are fused recursively.
import type { Block, Function, Op, Value } from '../ir/function.js';
import { newValue } from '../ir/function.js';
import type { FusionKind } from '../ir/ops.js';
import { opRow } from '../ir/ops.js';
import { KilnError } from '../ir/error.js';
import { classify, isDuplicable, kernelKind, recomputesExpensiveWork } from './fusion_rules.js';
import { opReads } from './walk.js';

interface Group {
  readonly id: number;
  /** Indices of the block's ops in this kernel; for duplicable ops, a copy of its own. */
  readonly members: Set<number>;
  /** Groups whose outputs this one reads. */
  readonly deps: Set<number>;
  /** A top-level op that is not a kernel (control flow, a non-splat constant, a lone splat). */
  readonly single: boolean;
}

class Grouping {
  readonly groups: Group[] = [];
  /** Op index -> the groups holding it (one for owned ops, possibly several copies for duplicables). */
  readonly groupsOf: Set<number>[];
  /** Op index -> the group that materializes its results for readers outside `groupsOf` copies. */
  readonly home: (number | undefined)[];
  readonly readers: number[][];
  readonly valueReaders = new Map<Value, number[]>();
  readonly blockResults: Set<Value>;
  readonly producer = new Map<Value, number>();
  /**
   * Values computed from a reduction or contraction through per-element ops. Ops are placed last to
   * first, so an epilogue is tried before its reduction joins: the cost rule looks ahead, assuming the
   * reduction will join the same kernel (it does unless it is read elsewhere).
   */
  readonly afterAnchor = new Set<Value>();

  constructor(readonly ops: readonly Op[], results: readonly Value[]) {
    this.groupsOf = ops.map(() => new Set<number>());
    this.home = ops.map(() => undefined);
    this.readers = ops.map(() => []);
    this.blockResults = new Set(results);
    const producer = this.producer;
    ops.forEach((op, i) => {
      for (const v of opReads(op)) {
        const p = producer.get(v);
        if (p === undefined) continue;
        if (!this.readers[p].includes(i)) this.readers[p].push(i);
        const list = this.valueReaders.get(v) ?? [];
        if (!list.includes(i)) list.push(i);
        this.valueReaders.set(v, list);
      }
      op.results.forEach((v) => producer.set(v, i));
      const c = classify(op);
      const after = c === 'reduce' || c === 'contraction' || ((c === 'elementwise' || c === 'movement') && op.operands.some((u) => this.afterAnchor.has(u)));
      if (after) op.results.forEach((v) => this.afterAnchor.add(v));
    });
  }

  newGroup(single: boolean): Group {
    const g: Group = { id: this.groups.length, members: new Set(), deps: new Set(), single };
    this.groups.push(g);
    return g;
  }

  /**
   * Whether `v`, made by an op that `g` owns, must be written out: the block returns it, or a kernel
   * without its own copy of the producer reads it.
   */
  isOutput(g: Group, v: Value): boolean {
    if (this.blockResults.has(v)) return true;
    const k = this.producer.get(v)!;
    return (this.valueReaders.get(v) ?? []).some((j) => [...this.groupsOf[j]].some((h) => h !== g.id && !this.groupsOf[k].has(h)));
  }

  /** The kernel kind of `g` with op `i` added as a copy (when given), or null if not allowed. */
  kindWith(g: Group, i: number | undefined): FusionKind | null {
    const members = [...g.members, ...(i === undefined ? [] : [i])].sort((a, b) => a - b);
    // Copies are read only inside; what g owns may be read outside.
    const isOutput = (v: Value) => this.home[this.producer.get(v)!] === g.id && this.isOutput(g, v);
    const ops = members.map((k) => this.ops[k]);
    const kind = kernelKind(ops, isOutput);
    return kind && !recomputesExpensiveWork(ops, (v) => this.afterAnchor.has(v)) ? kind : null;
  }

  /** Whether `from` reads (transitively) what `to` writes. */
  reaches(from: Group, to: Group): boolean {
    const seen = new Set<number>();
    const stack = [from.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === to.id) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...this.groups[id].deps);
    }
    return false;
  }

  /** Records that op `i` now lives in `g` (as owner when `owner`). */
  place(i: number, g: Group, owner: boolean): void {
    g.members.add(i);
    this.groupsOf[i].add(g.id);
    if (owner) this.home[i] = g.id;
  }

  /** Once op `i` is placed: every reader's group that does not hold `i` depends on its home. */
  linkReaders(i: number): void {
    for (const j of this.readers[i]) {
      for (const h of this.groupsOf[j]) {
        if (this.groupsOf[i].has(h)) continue;
        const home = this.home[i];
        if (home === undefined) throw new KilnError(`internal: fuse: ${this.ops[i].prim} is read outside its kernels but has no home`);
        this.groups[h].deps.add(home);
      }
    }
  }

  /** Groups (ids) that read op `i`'s results; `external` when the block returns one of them. */
  readerGroups(i: number): { groups: number[]; external: boolean } {
    const groups = new Set<number>();
    for (const j of this.readers[i]) this.groupsOf[j].forEach((g) => groups.add(g));
    const external = this.ops[i].results.some((v) => this.blockResults.has(v));
    return { groups: [...groups], external };
  }
}

function groupBlock(ops: readonly Op[], results: readonly Value[]): Grouping {
  const G = new Grouping(ops, results);
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i];
    const cls = classify(op);
    const { groups, external } = G.readerGroups(i);
    const kernels = groups.map((id) => G.groups[id]).filter((g) => !g.single);
    if (cls === 'none') {
      G.place(i, G.newGroup(true), true);
    } else if (isDuplicable(op)) {
      // Copy into each reading kernel that accepts it; materialize once for the others.
      const refused = groups.length - kernels.length > 0 || external;
      let anyRefused = refused;
      for (const g of kernels) {
        if (G.kindWith(g, i)) G.place(i, g, false);
        else anyRefused = true;
      }
      if (anyRefused) {
        const standalone = G.newGroup(cls === 'leaf' && op.prim === 'constant');
        G.place(i, standalone, true);
      }
    } else if (cls === 'opaque') {
      G.place(i, G.newGroup(false), true);
    } else {
      // Nearest reader first: fusing with the next kernel in program order keeps values short-lived.
      const firstReader = (g: Group) => Math.min(...[...g.members].filter((m) => G.readers[i].includes(m)));
      const candidates = [...kernels].sort((a, b) => firstReader(a) - firstReader(b));
      // A contraction's epilogue keeps the way open for the contraction to join it: it does not become
      // an extra output of a reduce or contraction kernel, where the contraction could not follow.
      const epilogue = cls === 'elementwise' && op.operands.some((v) => {
        const p = G.producer.get(v);
        return p !== undefined && classify(ops[p]) === 'contraction' && G.readers[p].length === 1;
      });
      let placed = false;
      for (const g of candidates) {
        if (epilogue && (external || groups.length > 1) && G.kindWith(g, undefined) !== 'elementwise') continue;
        const others = groups.filter((h) => h !== g.id).map((h) => G.groups[h]);
        if (others.some((h) => G.reaches(g, h))) continue; // h would read g while g reads h
        G.place(i, g, true);
        if (G.kindWith(g, undefined)) {
          placed = true;
          break;
        }
        g.members.delete(i);
        G.groupsOf[i].delete(g.id);
        G.home[i] = undefined;
      }
      if (!placed) G.place(i, G.newGroup(false), true);
    }
    G.linkReaders(i);
  }
  return G;
}

/** Builds the fusion op of one kernel group, or null when nothing outside reads it. */
function buildFusion(G: Grouping, g: Group): Op | null {
  const members = [...g.members].sort((a, b) => a - b);
  const ops = members.map((k) => G.ops[k]);
  const produced = new Set<Value>(ops.flatMap((op) => op.results));
  const inputs: Value[] = [];
  for (const op of ops) for (const v of op.operands) if (!produced.has(v) && !inputs.includes(v)) inputs.push(v);
  const outputs = members.filter((k) => G.home[k] === g.id).flatMap((k) => G.ops[k].results.filter((v) => G.isOutput(g, v)));
  if (outputs.length === 0) return null;
  const kind = kernelKind(ops, (v) => outputs.includes(v));
  if (!kind) throw new KilnError(`internal: fuse: kernel of ${ops.map((o) => o.prim).join(', ')} became invalid`);
  // The region gets fresh values; the fusion op's results are the original values, so the rest of
  // the block reads them unchanged.
  const map = new Map<Value, Value>();
  const params = inputs.map((v) => {
    const p = newValue(v.type);
    map.set(v, p);
    return p;
  });
  const body: Op[] = ops.map((op) => {
    const results = op.results.map((v) => {
      const r = newValue(v.type);
      map.set(v, r);
      return r;
    });
    return { ...op, operands: op.operands.map((v) => map.get(v) ?? v), results };
  });
  const region: Block = { params, ops: body, results: outputs.map((v) => map.get(v)!) };
  return { prim: 'fusion', operands: inputs, attrs: { kind }, results: outputs, regions: [region] };
}

function fuseBlock(block: Block): Block {
  // Control flow keeps its place; its regions are fused on their own.
  const ops = block.ops.map((op) => (op.regions.length && op.prim !== 'fusion' ? { ...op, regions: op.regions.map(fuseBlock) } : op));
  const G = groupBlock(ops, block.results);
  // Emit groups in dependency order, starting from the one holding the earliest op.
  const order = [...G.groups].sort((a, b) => Math.min(...a.members) - Math.min(...b.members));
  const done = new Set<number>();
  const out: Op[] = [];
  const visiting = new Set<number>();
  const emit = (g: Group) => {
    if (done.has(g.id)) return;
    if (visiting.has(g.id)) throw new KilnError('internal: fuse: kernels depend on each other in a cycle');
    visiting.add(g.id);
    [...g.deps].sort((a, b) => a - b).forEach((d) => emit(G.groups[d]));
    visiting.delete(g.id);
    done.add(g.id);
    if (g.single) out.push(...[...g.members].map((k) => ops[k]));
    else {
      const f = buildFusion(G, g);
      if (f) out.push(f);
    }
  };
  order.forEach(emit);
  return { params: block.params, ops: out, results: block.results };
}

/** Groups every block's ops into fusion kernels; see the file comment for the rules. */
export function fuse(fn: Function): Function {
  return { ...fn, body: fuseBlock(fn.body) };
}

/** Ops that are bookkeeping rather than a kernel launch. */
const TRIVIAL = (op: Op) => op.prim === 'constant' || opRow(op.prim).category === 'control';

/** Kernel launches: fusion ops plus computing ops left unfused, control-flow regions included. */
export function countKernels(fn: Function | Block): number {
  const block = 'body' in fn ? fn.body : fn;
  let n = 0;
  for (const op of block.ops) {
    if (op.prim === 'fusion') n++;
    else if (!TRIVIAL(op)) n++;
    if (op.prim !== 'fusion') for (const r of op.regions) n += countKernels(r);
  }
  return n;
}

/** The kind of each top-level fusion op, in order (for tests and stats). */
export function kernelKinds(fn: Function): string[] {
  return fn.body.ops.map((op) => (op.prim === 'fusion' ? String(op.attrs.kind) : op.prim));
}
