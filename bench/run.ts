// `npm run bench [-- --quick] [--only matmul,chain] [--no-peers] [--no-write] [--out dir]`: every workload
// on Kiln eager, Kiln jit and the peers, side by side in one process, each cell checked against the
// reference before it is timed; prints the table and writes RESULTS.md, results.svg and results.json to
// bench/ (a full run) or out/bench-quick/ (--quick: a short run never overwrites the committed results).
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { measureCell } from './harness.js';
import type { Row, RowResult, TimingOptions } from './harness.js';
import { SYSTEMS, available, loadEnv, resetKilnDevice, SYSTEM_LABEL } from './systems.js';
import { kernelRows } from './workloads/kernels.js';
import { trainingRows } from './workloads/training.js';
import { cnnRow } from './workloads/cnn.js';
import { formatValue, markdownTable, resultsMarkdown, resultsSvg } from './report.js';
import type { Machine, RunReport } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    threads: { type: 'string' },
    out: { type: 'string' },
  },
});

const quick = args.quick!;
const outDir = args.out ?? new URL(quick ? '../out/bench-quick/' : '.', import.meta.url).pathname;
// A checked call over maxTime / 2 gets a warm call (the first call of a row on a fresh device starts
// worker threads and can take 100x a warm one); if that one is fast, benny times the cell after all.
// --quick keeps a checked call over a second as the time.
const timing: TimingOptions = quick ? { maxTime: 0.25, minSamples: 2, firstCalls: 1, slowCalls: 1, slowCallLimit: 1 } : { maxTime: 2.5, minSamples: 5, firstCalls: 3, slowCalls: 2 };
const threads = Number(args.threads ?? cpus().length);

function machine(): Machine {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAverage: loadavg(),
  };
}

function selectRows(): Row[] {
  let rows = [...kernelRows(), ...trainingRows(), cnnRow()];
  if (quick) rows = rows.filter((r) => r.quick);
  if (args.only) {
    const want = args.only.split(',').map((s) => s.trim());
    rows = rows.filter((r) => want.some((w) => r.id.includes(w)));
  }
  return rows;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const m = machine();
  const env = await loadEnv({ threads, peers: !args['no-peers'] });
  console.log(`kiln bench${quick ? ' --quick' : ''}: ${m.cpus} CPUs (${m.cpuModel}), node ${m.node}, Kiln on '${env.kilnDevice}', load ${m.loadAverage.map((x) => x.toFixed(1)).join('/')}`);
  for (const n of env.notes) console.log(`  note: ${n}`);
  const results: RowResult[] = [];
  for (const row of selectRows()) {
    console.log(`\n${row.title} [${row.unit}]`);
    const rowStart = performance.now();
    let reference: ArrayLike<number>;
    try {
      reference = await row.reference(env);
      console.log(`  (reference ${((performance.now() - rowStart) / 1e3).toFixed(1)} s)`);
    } catch (e) {
      console.log(`  reference failed: ${(e as Error).message}`);
      continue;
    }
    const result: RowResult = { id: row.id, title: row.title, unit: row.unit, cells: [] };
    for (const s of SYSTEMS) {
      if (!available(env, s)) {
        result.cells.push({ system: s, value: null, skipped: 'not available in this environment' });
        continue;
      }
      if (s.startsWith('kiln')) await resetKilnDevice(env);
      const c = await measureCell(row, s, env, reference, timing);
      result.cells.push(c);
      const what = c.value !== null ? `${formatValue(c.value)} ${row.unit}` : `— (${c.skipped})`;
      if (c.value !== null || row.impls[s]) console.log(`  ${SYSTEM_LABEL[s].padEnd(21)} ${what}${c.info ? `   [${c.info}]` : ''}`);
    }
    results.push(result);
    console.log(`  (row ${((performance.now() - rowStart) / 1e3).toFixed(1)} s)`);
  }
  const report: RunReport = { machine: m, versions: env.versions, kilnDevice: env.kilnDevice, quick, seconds: (performance.now() - t0) / 1e3, notes: env.notes, rows: results };
  console.log(`\n${markdownTable(results)}\n\n${(report.seconds / 60).toFixed(1)} minutes`);
  if (!args['no-write']) {
    const dir = outDir.endsWith('/') ? outDir : `${outDir}/`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}RESULTS.md`, resultsMarkdown(report));
    writeFileSync(`${dir}results.svg`, resultsSvg(results, `Kiln vs peers, ${m.cpus} CPUs, ${m.date.slice(0, 10)}`));
    writeFileSync(`${dir}results.json`, JSON.stringify(report, null, 1));
    console.log(`wrote ${dir}RESULTS.md, results.svg, results.json`);
  }
}

main().then(
  // Emscripten's pthreads and jax-js's workers keep the event loop alive: leave explicitly.
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
