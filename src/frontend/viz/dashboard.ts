// The training dashboard (`kiln report run.jsonl`): scalars from jsonlLogger logs (one JSON object
// per line) drawn as SVG line charts, one chart per quantity with its validation twin (loss with
// valLoss), several runs overlaid, like TensorBoard's scalars page, in one self-contained HTML file.
import { KilnError } from '../../ir/error.js';
import { lineChart } from './chart.js';
import type { Series } from './chart.js';
import { escapeXml } from './svg.js';
import { show, stringArg } from '../args.js';

export type LogRecord = Record<string, unknown>;

export interface Run {
  readonly name: string;
  readonly records: readonly LogRecord[];
}

export interface ParsedLog {
  records: LogRecord[];
  /** Lines that were not JSON objects ("line 7: ..."); the page lists them. */
  skipped: string[];
}

/** Parses JSONL text; blank lines are ignored, broken lines are reported, not fatal (a run may be live). */
export function parseJsonl(text: string): ParsedLog {
  stringArg('parseJsonl', 'text', text);
  const records: LogRecord[] = [];
  const skipped: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) records.push(v as LogRecord);
      else skipped.push(`line ${i + 1}: not a JSON object`);
    } catch (e) {
      skipped.push(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return { records, skipped };
}

/** Keys that are the x axis or bookkeeping rather than scalars to plot. */
const NOT_SCALARS = new Set(['epoch', 'step', 'time']);

/** loss and valLoss share a chart; so do accuracy and valAccuracy. */
const groupOf = (key: string): string => (/^val[A-Z]/.test(key) ? key[3].toLowerCase() + key.slice(4) : key);

const ORDER = ['loss', 'accuracy', 'lr'];

function xOf(r: LogRecord, i: number): { x: number; axis: string } {
  if (typeof r.step === 'number') return { x: r.step, axis: 'step' };
  if (typeof r.epoch === 'number') return { x: r.epoch, axis: 'epoch' };
  return { x: i + 1, axis: 'record' };
}

export interface ReportOptions {
  title?: string;
  /** Problems met while reading the logs, listed on the page. */
  warnings?: readonly string[];
}

function summaryTable(runs: readonly Run[], keys: readonly string[]): string {
  const head = `<tr><th>run</th><th>records</th>${keys.map((k) => `<th>${escapeXml(k)} (last)</th>`).join('')}</tr>`;
  const rows = runs.map((run) => {
    const last = (k: string) => {
      for (let i = run.records.length - 1; i >= 0; i--) if (typeof run.records[i][k] === 'number') return run.records[i][k] as number;
      return null;
    };
    return `<tr><td>${escapeXml(run.name)}</td><td class="num">${run.records.length}</td>${keys.map((k) => `<td class="num">${last(k) === null ? '—' : Number(last(k)!.toPrecision(5))}</td>`).join('')}</tr>`;
  });
  return `<table class="summary">${head}${rows.join('')}</table>`;
}

/** The dashboard page for one or more runs. */
export function reportHtml(runs: readonly Run[], opts: ReportOptions = {}): string {
  if (!Array.isArray(runs as unknown)) throw new KilnError(`report: expected a list of runs, got ${show(runs)}`);
  if (!runs.length) throw new KilnError('report: no runs to show');
  const keys = new Set<string>();
  for (const run of runs) for (const r of run.records) for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !NOT_SCALARS.has(k)) keys.add(k);
  const groups = new Map<string, string[]>();
  for (const k of keys) (groups.get(groupOf(k)) ?? groups.set(groupOf(k), []).get(groupOf(k))!).push(k);
  const names = [...groups.keys()].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
  });
  const charts = names.map((g) => {
    const series: Series[] = [];
    let axis = 'record';
    for (const run of runs) {
      for (const k of groups.get(g)!.sort()) {
        const points: [number, number][] = [];
        run.records.forEach((r, i) => {
          const v = r[k];
          if (typeof v !== 'number') return;
          const p = xOf(r, i);
          axis = p.axis;
          points.push([p.x, v]);
        });
        series.push({ name: runs.length > 1 ? `${run.name}: ${k}` : k, points });
      }
    }
    return `<figure class="scalar" data-group="${escapeXml(g)}">${lineChart(series, { title: g, xLabel: axis, logY: g === 'lr' })}</figure>`;
  });
  const title = opts.title ?? `Training report: ${runs.map((r) => r.name).join(', ')}`;
  const warnings = opts.warnings?.length ? `<details class="warnings"><summary>${opts.warnings.length} log line(s) skipped</summary><pre>${escapeXml(opts.warnings.join('\n'))}</pre></details>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 12px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; border: 1px solid #ddd; border-radius: 8px; padding: 6px; background: #fff; }
table { border-collapse: collapse; margin: 12px 0 20px; } td, th { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style></head>
<body>
<h1>${escapeXml(title)}</h1>
${summaryTable(runs, names.flatMap((g) => groups.get(g)!))}
<div class="grid" id="charts">
${charts.join('\n')}
</div>
${warnings}
</body></html>
`;
}
