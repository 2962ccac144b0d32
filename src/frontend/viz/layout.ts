// A small two-level layered (Sugiyama-style) layout, so pages need no graphviz binary. Each kernel's
// ops are laid out on their own first; the kernel then becomes one box in the layout of the whole
// function, so kernel clusters never overlap. A level: layers by longest path from the sources,
// order within a layer by the barycenter of neighbours (sweeps down and up), rows centred.
import type { VizGraph, VizNode } from './graph.js';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedNode extends Box {
  readonly node: VizNode;
}

export interface PlacedCluster extends Box {
  readonly index: number;
}

export interface Layout {
  readonly nodes: ReadonlyMap<string, PlacedNode>;
  readonly clusters: readonly PlacedCluster[];
  readonly width: number;
  readonly height: number;
}

export const NODE_HEIGHT = 34;
const LAYER_GAP = 34;
const NODE_GAP = 24;
const MARGIN = 20;
const CLUSTER_PAD = 10;
/** Room above a cluster's nodes for its title. */
const CLUSTER_TITLE = 16;

/** Width from the longest label line (the SVG uses 11px and 9px monospace text). */
export function nodeWidth(n: VizNode): number {
  return Math.max(64, Math.ceil(Math.max(n.label.length * 6.8, n.detail.length * 5.6)) + 18);
}

interface Unit {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** Forced onto the last layer (function results). */
  readonly last?: boolean;
}

/** Lays out units (in a topological order) on layers; returns top-left corners and the extent. */
function layered(units: readonly Unit[], edges: readonly (readonly [string, string])[]): { pos: Map<string, { x: number; y: number }>; width: number; height: number } {
  const preds = new Map<string, string[]>(units.map((u) => [u.id, []]));
  const succs = new Map<string, string[]>(units.map((u) => [u.id, []]));
  for (const [a, b] of edges) {
    if (a === b || !preds.has(a) || !preds.has(b)) continue;
    if (!preds.get(b)!.includes(a)) preds.get(b)!.push(a);
    if (!succs.get(a)!.includes(b)) succs.get(a)!.push(b);
  }
  const layer = new Map<string, number>();
  for (const u of units) {
    const ps = preds.get(u.id)!;
    layer.set(u.id, ps.length ? Math.max(...ps.map((p) => layer.get(p) ?? 0)) + 1 : 0);
  }
  // Results line up on the bottom layer (each is already below its producer).
  const bottom = Math.max(0, ...layer.values());
  for (const u of units) if (u.last) layer.set(u.id, bottom);
  const rows: Unit[][] = Array.from({ length: Math.max(0, ...layer.values()) + 1 }, () => []);
  for (const u of units) rows[layer.get(u.id)!].push(u);
  const index = new Map<string, number>();
  const reindex = () => rows.forEach((r) => r.forEach((u, i) => index.set(u.id, i)));
  reindex();
  const sweep = (r: Unit[], nb: Map<string, string[]>) => {
    const bary = new Map(r.map((u, i) => {
      const ns = nb.get(u.id)!;
      return [u.id, ns.length ? ns.reduce((s, n) => s + index.get(n)!, 0) / ns.length : i] as const;
    }));
    r.sort((a, b) => bary.get(a.id)! - bary.get(b.id)!);
  };
  for (let it = 0; it < 4; it++) {
    for (let l = 1; l < rows.length; l++) {
      sweep(rows[l], preds);
      reindex();
    }
    for (let l = rows.length - 2; l >= 0; l--) {
      sweep(rows[l], succs);
      reindex();
    }
  }
  const rowWidth = (r: Unit[]) => r.reduce((s, u) => s + u.width, 0) + NODE_GAP * Math.max(0, r.length - 1);
  const width = Math.max(0, ...rows.map(rowWidth));
  const pos = new Map<string, { x: number; y: number }>();
  let y = 0;
  for (const r of rows) {
    const h = Math.max(0, ...r.map((u) => u.height));
    let x = (width - rowWidth(r)) / 2;
    for (const u of r) {
      pos.set(u.id, { x, y: y + (h - u.height) / 2 });
      x += u.width + NODE_GAP;
    }
    y += h + LAYER_GAP;
  }
  return { pos, width, height: Math.max(0, y - LAYER_GAP) };
}

export function layoutGraph(g: VizGraph): Layout {
  const unitOf = (n: VizNode) => (n.cluster === undefined ? n.id : `k${n.cluster}`);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  // Inside each kernel first.
  const inner = g.clusters.map((c) => {
    const members = g.nodes.filter((n) => n.cluster === c.index);
    const ids = new Set(members.map((n) => n.id));
    const internal = g.edges.filter((e) => ids.has(e.from) && ids.has(e.to)).map((e) => [e.from, e.to] as const);
    const l = layered(members.map((n) => ({ id: n.id, width: nodeWidth(n), height: NODE_HEIGHT })), internal);
    // Wide enough for its title ("kernel 3 · contraction · 0.123 ms"); the nodes are centred in it.
    const width = Math.max(l.width + 2 * CLUSTER_PAD, (c.label.length + 12) * 6);
    return { ...l, boxWidth: width, offset: (width - l.width) / 2 };
  });
  // Then the function, each kernel one unit, in the order of its first op (a topological order).
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const n of g.nodes) {
    const u = unitOf(n);
    if (seen.has(u)) continue;
    seen.add(u);
    if (n.cluster === undefined) units.push({ id: u, width: nodeWidth(n), height: NODE_HEIGHT, last: n.kind === 'output' });
    else units.push({ id: u, width: inner[n.cluster].boxWidth, height: inner[n.cluster].height + 2 * CLUSTER_PAD + CLUSTER_TITLE });
  }
  const top = layered(units, g.edges.map((e) => [unitOf(byId.get(e.from)!), unitOf(byId.get(e.to)!)] as const));
  const nodes = new Map<string, PlacedNode>();
  const clusters: PlacedCluster[] = [];
  for (const n of g.nodes) {
    const p = top.pos.get(unitOf(n))!;
    if (n.cluster === undefined) {
      nodes.set(n.id, { node: n, x: MARGIN + p.x, y: MARGIN + p.y, width: nodeWidth(n), height: NODE_HEIGHT });
    } else {
      const q = inner[n.cluster].pos.get(n.id)!;
      nodes.set(n.id, { node: n, x: MARGIN + p.x + inner[n.cluster].offset + q.x, y: MARGIN + p.y + CLUSTER_PAD + CLUSTER_TITLE + q.y, width: nodeWidth(n), height: NODE_HEIGHT });
    }
  }
  for (const c of g.clusters) {
    const p = top.pos.get(`k${c.index}`);
    if (!p) continue;
    clusters.push({ index: c.index, x: MARGIN + p.x, y: MARGIN + p.y, width: inner[c.index].boxWidth, height: inner[c.index].height + 2 * CLUSTER_PAD + CLUSTER_TITLE });
  }
  return { nodes, clusters, width: Math.max(200, top.width + 2 * MARGIN), height: top.height + 2 * MARGIN };
}
