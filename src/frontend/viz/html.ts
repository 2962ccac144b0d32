// vizHtml(before, after): one self-contained page showing a function's IR before and after fusion as
// inline SVG graphs (each kernel a shaded cluster), a table of kernels (with times when a profile is
// given) and the IR text. No scripts, no external files: it opens anywhere and diffs well.
import type { Function as IRFunction } from '../../ir/function.js';
import { printFunction } from '../../ir/printer.js';
import { runPipelineWithReport } from '../../passes/pipeline.js';
import { traceToFunction } from '../tracing.js';
import type { TraceOptions } from '../tracing.js';
import { buildGraph } from './graph.js';
import { graphToDot } from './dot.js';
import { escapeXml, graphSvg } from './svg.js';
import type { ProfileResult } from './profile.js';
import { checkFunction } from '../../ir/function.js';
import { fnArg, listArg } from '../args.js';

export interface VizHtmlOptions {
  title?: string;
  /** Per-kernel times from profileKernels/profileFunction on `after`. */
  profile?: ProfileResult;
}

export interface FusionViews {
  /** Simplified, deduplicated IR with one op per primitive (the fuse pass not run). */
  before: IRFunction;
  /** The IR jit compiles: fusion ops hold the kernels. */
  after: IRFunction;
  kernels: number;
  peakBytes: number;
}

/** Traces `f(...args)` and returns its IR before and after the fuse pass (same earlier passes). */
export function fusionViews(f: (...args: any[]) => unknown, args: readonly unknown[], opts: TraceOptions = {}): FusionViews {
  fnArg('fusionViews', null, f);
  listArg('fusionViews', 'args', args);
  const traced = traceToFunction(f, [...args], opts).fn;
  const before = runPipelineWithReport(traced, { fuse: false, dump: '' }).fn;
  const report = runPipelineWithReport(traced, { dump: '' });
  return { before, after: report.fn, kernels: report.kernels, peakBytes: report.peakBytes };
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 0 0 8px; }
.meta { color: #666; margin-bottom: 16px; }
.panels { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
.panel { border: 1px solid #ddd; border-radius: 8px; padding: 12px; overflow: auto; max-width: 100%; background: #fcfcfc; }
table { border-collapse: collapse; margin: 12px 0; } td, th { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 10px; background: #e76f51; border-radius: 2px; vertical-align: middle; }
pre { background: #f6f6f6; padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px; }
`;

function kernelTable(after: IRFunction, profile?: ProfileResult): string {
  const g = buildGraph(after);
  const rows = profile
    ? profile.kernels.map((k) => ({ label: k.label, ops: k.ops, outputs: k.outputs, ms: k.ms as number | undefined, share: k.share }))
    : g.clusters.map((c) => ({ label: `fusion:${c.kind}`, ops: c.ops, outputs: c.outputs, ms: undefined as number | undefined, share: 0 }));
  const head = `<tr><th>#</th><th>kernel</th><th>ops</th><th>outputs</th>${profile ? '<th>ms</th><th>share</th>' : ''}</tr>`;
  const body = rows
    .map((r, i) => {
      const timing = profile ? `<td class="num">${r.ms!.toFixed(3)}</td><td><span class="bar" style="width:${Math.max(1, Math.round(r.share * 200))}px"></span> ${(100 * r.share).toFixed(1)}%</td>` : '';
      return `<tr class="kernel-row"><td class="num">${i}</td><td>${escapeXml(r.label)}</td><td class="num">${r.ops}</td><td>${escapeXml(r.outputs)}</td>${timing}</tr>`;
    })
    .join('\n');
  const note = profile ? `<p class="meta">Profile on '${escapeXml(profile.device)}', total ${profile.totalMs.toFixed(3)} ms: ${escapeXml(profile.method)}.</p>` : '';
  return `<table class="kernels">${head}\n${body}</table>${note}`;
}

/** The page: `before` and `after` side by side, kernels table, IR text and dot source. */
export function vizHtml(before: IRFunction, after: IRFunction, opts: VizHtmlOptions = {}): string {
  checkFunction('vizHtml', before);
  checkFunction('vizHtml', after);
  const gb = buildGraph(before);
  const ga = buildGraph(after);
  const kernelMs = opts.profile ? new Map(opts.profile.kernels.filter((k) => k.kernel !== undefined).map((k) => [k.kernel!, k.ms])) : undefined;
  const title = opts.title ?? `${after.name}: before and after fusion`;
  const opsBefore = gb.nodes.filter((n) => n.kind === 'op' || n.kind === 'control' || n.kind === 'constant').length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeXml(title)}</h1>
<div class="meta" id="summary">${opsBefore} ops before fusion → ${ga.clusters.length} fusion kernel${ga.clusters.length === 1 ? '' : 's'} after (edges carry the value's type; scalar constants are folded into op labels).</div>
<div class="panels">
<section class="panel" id="before"><h2>Before fusion (${opsBefore} ops)</h2>
${graphSvg(gb, { idPrefix: 'before' })}
</section>
<section class="panel" id="after"><h2>After fusion (${ga.clusters.length} kernel${ga.clusters.length === 1 ? '' : 's'})</h2>
${graphSvg(ga, { idPrefix: 'after', kernelMs })}
</section>
</div>
<h2>Kernels</h2>
${kernelTable(after, opts.profile)}
<details><summary>IR before fusion</summary><pre id="ir-before">${escapeXml(printFunction(before))}</pre></details>
<details><summary>IR after fusion</summary><pre id="ir-after">${escapeXml(printFunction(after))}</pre></details>
<details><summary>Graphviz dot (after fusion)</summary><pre id="dot">${escapeXml(graphToDot(ga))}</pre></details>
</body></html>
`;
}
