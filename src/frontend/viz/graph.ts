// The picture-level view of an IR Function: nodes (inputs, ops, outputs), edges labeled with the
// value's type, and clusters (one per fusion op, holding the ops of its kernel). Dot text, the SVG
// layout and the HTML page are all drawn from this one graph.
import type { Function as IRFunction, Op, Value } from '../../ir/function.js';
import { formatNumber } from '../../ir/printer.js';
import { typeToString } from '../../ir/shape.js';

export type NodeKind = 'input' | 'op' | 'control' | 'constant' | 'output';

export interface VizNode {
  readonly id: string;
  /** First line: the primitive (with folded scalar constants), the parameter name, or "return i". */
  readonly label: string;
  /** Second line: the result type(s). */
  readonly detail: string;
  readonly kind: NodeKind;
  /** Index into `clusters` when the op belongs to a fusion kernel. */
  readonly cluster?: number;
  /** `file:line:col` of the user's code that recorded the op, when the trace kept it. */
  readonly loc?: string;
}

export interface VizEdge {
  readonly from: string;
  readonly to: string;
  /** The value's type, e.g. f32[128,512]. */
  readonly label: string;
}

export interface VizCluster {
  readonly index: number;
  /** "kernel 2 · reduce". */
  readonly label: string;
  readonly kind: string;
  /** Ops inside the kernel (folded constants excluded). */
  readonly ops: number;
  /** Types of the kernel's results. */
  readonly outputs: string;
}

export interface VizGraph {
  readonly name: string;
  readonly nodes: readonly VizNode[];
  readonly edges: readonly VizEdge[];
  readonly clusters: readonly VizCluster[];
}

/** A constant that is one number repeated (a scalar or a splat) folds into its readers' labels. */
function splatValue(op: Op): number | null {
  if (op.prim !== 'constant') return null;
  const v = (op.attrs as { value?: readonly number[] }).value;
  return v && v.length === 1 ? v[0] : null;
}

/**
 * A folded constant's label: float32 values print with the fewest digits that round-trip in float32
 * (1.702, not the 1.7020000219345093 the lossless IR text needs).
 */
function constantLabel(x: number, dtype: string): string {
  if (dtype !== 'float32' || !Number.isFinite(x) || Number.isInteger(x)) return formatNumber(x);
  for (let p = 1; p <= 9; p++) {
    const short = Number(x.toPrecision(p));
    if (Math.fround(short) === Math.fround(x)) return formatNumber(short);
  }
  return formatNumber(x);
}

const resultTypes = (vs: readonly Value[]): string => vs.map((v) => typeToString(v.type)).join(', ');

/** Builds the graph: fusion ops are expanded into clusters; other regions (cond/while/scan) stay one node. */
export function buildGraph(fn: IRFunction): VizGraph {
  const nodes: VizNode[] = [];
  const edges: VizEdge[] = [];
  const clusters: VizCluster[] = [];
  /** Value id -> the node that produces it (after looking through kernel boundaries). */
  const producer = new Map<number, string>();
  /** Value id -> a folded constant's text. */
  const folded = new Map<number, string>();
  let next = 0;

  fn.body.params.forEach((p, i) => {
    const id = `in${i}`;
    nodes.push({ id, label: `%${p.name ?? `arg${i}`}`, detail: typeToString(p.type), kind: 'input' });
    producer.set(p.id, id);
  });

  const addOp = (op: Op, cluster?: number): void => {
    const c = splatValue(op);
    if (c !== null && op.regions.length === 0) {
      folded.set(op.results[0].id, constantLabel(c, op.results[0].type.dtype));
      return;
    }
    const id = `n${next++}`;
    const consts = op.operands.filter((v) => folded.has(v.id)).map((v) => folded.get(v.id)!);
    const label = consts.length ? `${op.prim} ${consts.join(', ')}` : op.prim;
    const kind: NodeKind = op.prim === 'constant' ? 'constant' : op.regions.length ? 'control' : 'op';
    nodes.push({ id, label, detail: resultTypes(op.results), kind, ...(cluster !== undefined ? { cluster } : {}), ...(op.loc ? { loc: op.loc } : {}) });
    for (const v of op.operands) {
      const from = producer.get(v.id);
      if (from) edges.push({ from, to: id, label: typeToString(v.type) });
    }
    op.results.forEach((r) => producer.set(r.id, id));
  };

  for (const op of fn.body.ops) {
    if (op.prim !== 'fusion') {
      addOp(op);
      continue;
    }
    const body = op.regions[0];
    const index = clusters.length;
    // Kernel inputs are the fusion op's operands: inside the region they are its parameters.
    body.params.forEach((p, i) => {
      const v = op.operands[i];
      if (folded.has(v.id)) folded.set(p.id, folded.get(v.id)!);
      const from = producer.get(v.id);
      if (from) producer.set(p.id, from);
    });
    const before = nodes.length;
    for (const inner of body.ops) addOp(inner, index);
    const kind = String((op.attrs as { kind?: unknown }).kind ?? 'kernel');
    clusters.push({ index, label: `kernel ${index} · ${kind}`, kind, ops: nodes.length - before, outputs: resultTypes(op.results) });
    op.results.forEach((r, j) => {
      const inner = producer.get(body.results[j].id);
      if (inner) producer.set(r.id, inner);
      const c = folded.get(body.results[j].id);
      if (c !== undefined) folded.set(r.id, c);
    });
  }

  fn.body.results.forEach((v, i) => {
    const id = `out${i}`;
    nodes.push({ id, label: `return ${i}`, detail: typeToString(v.type), kind: 'output' });
    const from = producer.get(v.id);
    if (from) edges.push({ from, to: id, label: typeToString(v.type) });
  });
  return { name: fn.name, nodes, edges, clusters };
}
