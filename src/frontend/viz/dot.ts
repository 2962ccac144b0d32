// toDot: an IR Function as Graphviz dot text. Each fusion kernel is a `cluster_k<i>` subgraph, edges
// carry the value's type, and scalar constants are folded into the labels of the ops that read them.
import type { Function as IRFunction } from '../../ir/function.js';
import { buildGraph } from './graph.js';
import type { NodeKind, VizGraph, VizNode } from './graph.js';
import { checkFunction } from '../../ir/function.js';

export interface DotOptions {
  /** Graph direction (default 'TB', top to bottom). */
  rankdir?: 'TB' | 'LR';
}

/** A dot string literal. */
const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const NODE_STYLE: Record<NodeKind, string> = {
  input: 'shape=ellipse, fillcolor="#e8f1fb"',
  output: 'shape=ellipse, fillcolor="#eaf6ea"',
  op: 'shape=box, fillcolor="#ffffff"',
  control: 'shape=box3d, fillcolor="#f3ecfb"',
  constant: 'shape=note, fillcolor="#f5f5f5"',
};

function nodeLine(n: VizNode, indent: string): string {
  return `${indent}${n.id} [label=${q(`${n.label}\n${n.detail}`)}, ${NODE_STYLE[n.kind]}${n.loc ? `, tooltip=${q(n.loc)}` : ''}];`;
}

/** Dot text for an already built graph (vizHtml and the CLI share the graph). */
export function graphToDot(g: VizGraph, opts: DotOptions = {}): string {
  const lines = [
    `digraph ${q(g.name)} {`,
    `  rankdir=${opts.rankdir ?? 'TB'};`,
    '  node [style="rounded,filled", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=8, color="#777777"];',
  ];
  for (const n of g.nodes) if (n.cluster === undefined) lines.push(nodeLine(n, '  '));
  for (const c of g.clusters) {
    lines.push(`  subgraph cluster_k${c.index} {`, `    label=${q(`${c.label} (${c.ops} op${c.ops === 1 ? '' : 's'})`)};`, '    style="rounded,filled"; fillcolor="#fdf1e7"; color="#e76f51";');
    for (const n of g.nodes) if (n.cluster === c.index) lines.push(nodeLine(n, '    '));
    lines.push('  }');
  }
  for (const e of g.edges) lines.push(`  ${e.from} -> ${e.to} [label=${q(e.label)}];`);
  lines.push('}');
  return lines.join('\n');
}

/** Graphviz dot text for an IR Function (fusion kernels as clusters, edges labeled with shapes). */
export function toDot(fn: IRFunction, opts: DotOptions = {}): string {
  checkFunction('toDot', fn);
  return graphToDot(buildGraph(fn), opts);
}
