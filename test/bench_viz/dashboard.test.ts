// The training dashboard: JSONL parsing, one chart per scalar group, runs overlaid, ticks.
import { describe, expect, it } from 'vitest';
import { parseJsonl, reportHtml, lineChart } from '../../src/frontend/viz/index.js';
import { niceTicks, logTicks } from '../../src/frontend/viz/chart.js';

const log = [
  { time: 1, epoch: 1, loss: 2.1, accuracy: 0.31, valLoss: 2.0, valAccuracy: 0.35, lr: 0.01, seconds: 3.2, samplesPerSecond: 900 },
  { time: 2, epoch: 2, loss: 1.4, accuracy: 0.52, valLoss: 1.6, valAccuracy: 0.51, lr: 0.005, seconds: 3.1, samplesPerSecond: 950 },
  { time: 3, epoch: 3, loss: 1.1, accuracy: 0.63, valLoss: 1.3, valAccuracy: 0.6, lr: 0.001, seconds: 3.0, samplesPerSecond: 990 },
];

describe('parseJsonl', () => {
  it('keeps objects, skips blank lines, reports broken ones with their line number', () => {
    const text = `${JSON.stringify(log[0])}\n\n${JSON.stringify(log[1])}\n{"loss": 1.0\n[1,2]\n${JSON.stringify(log[2])}\n`;
    const { records, skipped } = parseJsonl(text);
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/^line 4: /);
    expect(skipped[1]).toBe('line 5: not a JSON object');
  });
});

describe('reportHtml', () => {
  it('one chart per quantity, validation twins together, lr on a log axis', () => {
    const html = reportHtml([{ name: 'run1', records: log }]);
    const groups = [...html.matchAll(/<figure class="scalar" data-group="([^"]+)">/g)].map((m) => m[1]);
    expect(groups).toEqual(['loss', 'accuracy', 'lr', 'samplesPerSecond', 'seconds']);
    expect(html).toMatch(/data-name="loss"/);
    expect(html).toMatch(/data-name="valLoss"/);
    expect(html.match(/<circle class="point"/g)).toHaveLength(3 * 7); // 7 scalars x 3 epochs
    expect(html).toContain('<table class="summary">');
    expect(html).not.toContain('<script');
    expect(html).toContain('>epoch</text>');
  });

  it('overlays runs with their names, and lists skipped lines', () => {
    const html = reportHtml(
      [
        { name: 'a', records: log },
        { name: 'b', records: log.map((r) => ({ ...r, loss: r.loss * 0.9 })) },
      ],
      { title: 'two <runs>', warnings: ['a.jsonl line 4: bad'] },
    );
    expect(html).toContain('<title>two &lt;runs&gt;</title>');
    expect(html).toMatch(/data-name="a: loss"/);
    expect(html).toMatch(/data-name="b: loss"/);
    expect(html).toContain('1 log line(s) skipped');
  });

  it('uses the step as x when records have one, and survives non-finite values', () => {
    const html = reportHtml([{ name: 'steps', records: [{ step: 10, loss: 1 }, { step: 20, loss: Number.NaN }, { step: 30, loss: 0.5 }] }]);
    expect(html).toContain('>step</text>');
    expect(html.match(/<circle class="point"/g)).toHaveLength(2);
  });

  it('needs at least one run', () => {
    expect(() => reportHtml([])).toThrow(/no runs/);
  });
});

describe('chart pieces', () => {
  it('round ticks', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // Exact multiples: a running sum reached 1.9999999999999998 here and the epoch axis lost its "2".
    expect(niceTicks(1, 2, 6)).toEqual([1, 1.2, 1.4, 1.6, 1.8, 2]);
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(logTicks(-3, -2).map((t) => Number((10 ** t).toPrecision(3)))).toEqual([0.001, 0.002, 0.005, 0.01]);
  });

  it('a two-epoch run labels both epochs', () => {
    const svg = lineChart([{ name: 'loss', points: [[1, 0.9], [2, 0.6]] }], { title: 'loss', xLabel: 'epoch' });
    const labels = [...svg.matchAll(/<text[^>]*text-anchor="middle"[^>]*>(\d+)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['1', '2']);
  });

  it('an empty chart says so', () => {
    expect(lineChart([{ name: 's', points: [] }], { title: 'empty' })).toContain('no finite values');
  });
});
