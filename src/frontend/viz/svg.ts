// Draws a laid-out graph as inline SVG: kernel clusters as shaded boxes, nodes as rounded boxes
// (inputs and outputs as pills), edges as curves with the value's type at their middle.
import type { NodeKind, VizGraph } from './graph.js';
import { layoutGraph } from './layout.js';

export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const FILL: Record<NodeKind, string> = {
  input: '#e8f1fb',
  output: '#eaf6ea',
  op: '#ffffff',
  control: '#f3ecfb',
  constant: '#f5f5f5',
};

export interface SvgOptions {
  /** Prefix for ids inside the SVG (a page holding several graphs needs distinct marker ids). */
  idPrefix?: string;
  /** Milliseconds per kernel (by cluster index), shown in the cluster's title. */
  kernelMs?: ReadonlyMap<number, number>;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function graphSvg(g: VizGraph, opts: SvgOptions = {}): string {
  const lay = layoutGraph(g);
  const pre = opts.idPrefix ?? 'g';
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="kiln-graph" width="${r1(lay.width)}" height="${r1(lay.height)}" viewBox="0 0 ${r1(lay.width)} ${r1(lay.height)}" font-family="ui-monospace, SFMono-Regular, Menlo, monospace">`,
    `<defs><marker id="${pre}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>`,
  ];
  for (const c of lay.clusters) {
    const info = g.clusters[c.index];
    const ms = opts.kernelMs?.get(c.index);
    const title = `${info.label}${ms !== undefined ? ` · ${ms.toFixed(3)} ms` : ''}`;
    out.push(
      `<g class="cluster" data-kernel="${c.index}" data-kind="${escapeXml(info.kind)}">` +
        `<rect x="${r1(c.x)}" y="${r1(c.y)}" width="${r1(c.width)}" height="${r1(c.height)}" rx="8" fill="#fdf1e7" stroke="#e76f51" stroke-dasharray="4 2"/>` +
        `<text x="${r1(c.x + 8)}" y="${r1(c.y + 13)}" font-size="10" fill="#b5472c">${escapeXml(title)}</text>` +
        `<title>${escapeXml(`${title}\n${info.ops} ops -> ${info.outputs}`)}</title></g>`,
    );
  }
  // A value read by several ops is labeled once, just below its producer.
  const labeled = new Set<string>();
  for (const e of g.edges) {
    const a = lay.nodes.get(e.from);
    const b = lay.nodes.get(e.to);
    if (!a || !b) continue;
    const [x1, y1] = [a.x + a.width / 2, a.y + a.height];
    const [x2, y2] = [b.x + b.width / 2, b.y];
    const dy = Math.max(20, (y2 - y1) / 2);
    const key = `${e.from}:${e.label}`;
    const label = labeled.has(key) ? '' : `<text class="edge-label" x="${r1(x1 + 4)}" y="${r1(y1 + 10)}" font-size="8" fill="#777">${escapeXml(e.label)}</text>`;
    labeled.add(key);
    out.push(
      `<g class="edge" data-from="${e.from}" data-to="${e.to}"><path d="M${r1(x1)},${r1(y1)} C${r1(x1)},${r1(y1 + dy)} ${r1(x2)},${r1(y2 - dy)} ${r1(x2)},${r1(y2 - 1)}" fill="none" stroke="#999" stroke-width="1.2" marker-end="url(#${pre}-arrow)"/>` +
        `${label}</g>`,
    );
  }
  for (const p of lay.nodes.values()) {
    const n = p.node;
    const pill = n.kind === 'input' || n.kind === 'output';
    out.push(
      `<g class="node" data-id="${n.id}" data-kind="${n.kind}"${n.cluster !== undefined ? ` data-kernel="${n.cluster}"` : ''}>` +
        `<rect x="${r1(p.x)}" y="${r1(p.y)}" width="${r1(p.width)}" height="${p.height}" rx="${pill ? p.height / 2 : 5}" fill="${FILL[n.kind]}" stroke="${n.kind === 'control' ? '#7b4fb3' : '#555'}"/>` +
        `<text x="${r1(p.x + p.width / 2)}" y="${r1(p.y + 14)}" font-size="11" text-anchor="middle">${escapeXml(n.label)}</text>` +
        `<text x="${r1(p.x + p.width / 2)}" y="${r1(p.y + 27)}" font-size="9" text-anchor="middle" fill="#666">${escapeXml(n.detail)}</text>` +
        (n.loc ? `<title>${escapeXml(n.loc)}</title>` : '') +
        '</g>',
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
