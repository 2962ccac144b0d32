// The IR graph pictures: graph model, dot text, inline SVG and the before/after page, on functions
// whose fusion is known (an elementwise chain is one kernel; matmul + softmax is three).
import { describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';
import { buildGraph, graphSvg, toDot, vizHtml, fusionViews, profileKernels, profileKernelsAsync } from '../../src/frontend/viz/index.js';
import { parseFunction } from '../../src/ir/parser.js';

const chain = (x: k.Tensor) => k.sub(k.mul(k.tanh(k.add(k.mul(x, 1.5), 0.5)), k.sigmoid(x)), k.mul(x, 0.1));
const head = (x: k.Tensor, w: k.Tensor) => k.softmax(k.relu(k.matmul(x, w)), { axis: -1 });
const data = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.9 + 0.05);

describe('buildGraph and toDot', () => {
  it('the fused chain is one cluster; scalar constants fold into labels; edges carry types', () => {
    const v = fusionViews(chain, [k.tensor(data(32, 1)).reshape([8, 4])]);
    const g = buildGraph(v.after);
    expect(g.clusters).toHaveLength(1);
    expect(g.clusters[0]).toMatchObject({ index: 0, kind: 'elementwise', outputs: 'f32[8,4]' });
    expect(g.nodes.filter((n) => n.cluster === 0).map((n) => n.label)).toEqual(['mul 1.5', 'add 0.5', 'tanh', 'sigmoid', 'mul', 'mul 0.1', 'sub']);
    expect(g.nodes.filter((n) => n.kind === 'input')).toHaveLength(1);
    expect(g.nodes.filter((n) => n.kind === 'output')).toHaveLength(1);
    expect(g.edges.every((e) => e.label === 'f32[8,4]')).toBe(true);
    const before = buildGraph(v.before);
    expect(before.clusters).toHaveLength(0);
    expect(before.nodes.filter((n) => n.kind === 'op')).toHaveLength(7);
  });

  it('dot text has one cluster subgraph per kernel and edges labeled with shapes', () => {
    const v = fusionViews(head, [k.tensor(data(32, 2)).reshape([8, 4]), k.tensor(data(12, 3)).reshape([4, 3])]);
    // matmul+relu is one contraction kernel and softmax at least one more (how many is the fusion
    // pass's business: the picture must show whatever it decided).
    expect(v.kernels).toBeGreaterThanOrEqual(2);
    const dot = toDot(v.after);
    expect(dot.startsWith('digraph "head" {')).toBe(true);
    expect(dot.match(/subgraph cluster_k\d+ \{/g)).toHaveLength(v.kernels);
    expect(dot).toMatch(/label="kernel 0 · contraction \(\d+ ops?\)"/);
    expect(dot).toMatch(/in0 -> n\d+ \[label="f32\[8,4\]"\];/);
    expect(dot).toMatch(/-> out0 \[label="f32\[8,3\]"\];/);
    // Balanced braces: a valid digraph body.
    expect(dot.split('{').length).toBe(dot.split('}').length);
  });

  it('reads parsed IR as well (toDot works on any Function)', () => {
    const fn = parseFunction(`func @f(%x: f32[2,3]) -> (f32[2,3]) {
  %0 = fusion %x {kind=elementwise} : f32[2,3] {
  ^(%1: f32[2,3]):
    %2 = exp %1 : f32[2,3]
    yield %2
  }
  return %0
}`);
    const dot = toDot(fn, { rankdir: 'LR' });
    expect(dot).toContain('rankdir=LR;');
    expect(dot).toContain('subgraph cluster_k0');
    expect(dot).toContain('label="exp\\nf32[2,3]"');
  });

  it('control-flow ops stay single nodes', () => {
    const f = (x: k.Tensor) => k.cond(k.gt(k.sum(x), 0), (y: k.Tensor) => k.mul(y, 2), (y: k.Tensor) => k.neg(y), x);
    const v = fusionViews(f, [k.tensor(data(6, 4))]);
    const g = buildGraph(v.after);
    expect(g.nodes.some((n) => n.kind === 'control' && n.label === 'cond')).toBe(true);
  });
});

describe('graphSvg and vizHtml', () => {
  it('draws every node, edge and cluster, with distinct marker ids per graph', () => {
    const v = fusionViews(head, [k.tensor(data(32, 2)).reshape([8, 4]), k.tensor(data(12, 3)).reshape([4, 3])]);
    const g = buildGraph(v.after);
    const svg = graphSvg(g, { idPrefix: 'x' });
    expect(svg.match(/<g class="node"/g)).toHaveLength(g.nodes.length);
    expect(svg.match(/<g class="edge"/g)).toHaveLength(g.edges.length);
    expect(svg.match(/<g class="cluster"/g)).toHaveLength(v.kernels);
    expect(svg).toContain('id="x-arrow"');
    // Boxes of different kernels never overlap (each kernel is one unit of the outer layout).
    const boxes = [...svg.matchAll(/<g class="cluster"[^>]*><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => m.slice(1).map(Number));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
        expect(overlap).toBe(false);
      }
  });

  it('the page holds both graphs, a kernel table, the IR text and the dot source, escaped', () => {
    const x = k.tensor(data(32, 2)).reshape([8, 4]);
    const w = k.tensor(data(12, 3)).reshape([4, 3]);
    const v = fusionViews(head, [x, w]);
    const profile = profileKernels(head, [x, w], { iterations: 2 });
    expect(profile.kernels.map((p) => p.label)).toEqual(['fusion:contraction', ...Array(v.kernels - 1).fill('fusion:reduce')]);
    expect(profile.kernels.every((p) => p.ms >= 0 && p.share >= 0)).toBe(true);
    const html = vizHtml(v.before, v.after, { title: 'head <check>', profile });
    expect(html).toContain('<title>head &lt;check&gt;</title>');
    expect(html.match(/<svg [^>]*class="kiln-graph"/g)).toHaveLength(2);
    expect(html.match(/<tr class="kernel-row">/g)).toHaveLength(v.kernels);
    expect(html).toContain('id="ir-before"');
    expect(html).toContain('digraph &quot;head&quot;');
    expect(html).not.toContain('<script');
  });

  it('profileKernelsAsync gives the same rows on a synchronous device (webgpu timestamps: test/browser/profile.test.ts)', async () => {
    const args = [k.tensor(data(32, 2)).reshape([8, 4]), k.tensor(data(12, 3)).reshape([4, 3])];
    const sync = profileKernels(head, args, { iterations: 1 });
    const awaited = await profileKernelsAsync(head, args, { iterations: 1 });
    expect(awaited.kernels.map((p) => p.label)).toEqual(sync.kernels.map((p) => p.label));
    expect(awaited.method).toContain('timed around run()');
  });
});
