// `kiln report run.jsonl [other.jsonl ...] --out report.html`: the training dashboard (scalar curves
// as SVG) for logs written by jsonlLogger; several logs are overlaid as runs.
import { basename } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { CliIO } from './io.js';
import { UsageError, parse, readBytes } from './io.js';

export const REPORT_USAGE = `kiln report <run.jsonl> [more.jsonl ...] [--out report.html] [--title <text>]
  One chart per scalar (loss with valLoss, accuracy with valAccuracy, lr, ...), runs overlaid.
  --out defaults to the first log's name with .html.`;

export async function reportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string', short: 'o' }, title: { type: 'string' } }, 'report');
  if (!positionals.length) throw new UsageError('kiln report: needs at least one .jsonl log');
  const { parseJsonl, reportHtml } = await import('../frontend/viz/dashboard.js');
  const warnings: string[] = [];
  const runs = positionals.map((path) => {
    const { records, skipped } = parseJsonl(new TextDecoder().decode(readBytes(path)));
    warnings.push(...skipped.map((s) => `${path} ${s}`));
    return { name: basename(path).replace(/\.jsonl$/, ''), records };
  });
  const out = typeof values.out === 'string' ? values.out : positionals[0].replace(/\.jsonl$/, '') + '.html';
  writeFileSync(out, reportHtml(runs, { title: values.title as string | undefined, warnings }));
  const n = runs.reduce((s, r) => s + r.records.length, 0);
  io.out(`wrote ${out}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${n} records${warnings.length ? `, ${warnings.length} line(s) skipped` : ''}`);
  return 0;
}
