// The dashboard end to end, as a user gets it: Trainer.fit with jsonlLogger writes one JSON line per
// epoch, and `kiln report run.jsonl` turns that file into the page with loss, accuracy and lr curves.
import { expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, nn, optim, data, Trainer, crossEntropy, manualSeed, jsonlLogger, randn, randint, randomKey } from '../../src/index.js';
import { main } from '../../src/cli/main.js';

class Tiny extends nn.Module {
  fc1 = new nn.Linear(6, 8);
  fc2 = new nn.Linear(8, 3);
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.fc1.call(x).relu());
  }
}

it('fit + jsonlLogger writes the log that kiln report renders', async () => {
  manualSeed(2);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fit-report-'));
  const log = join(dir, 'run.jsonl');
  const model = new Tiny();
  const opt = new optim.SGD(model.parameters(), { lr: 0.2 });
  const trainer = new Trainer(model, { optimizer: opt, loss: (o, y) => crossEntropy(o, y), jit: true, scheduler: new optim.StepLR(opt, 1, 0.5) });
  const ds = new data.TensorDataset(randn([32, 6], { key: randomKey(3) }), randint(0, 3, [32], { key: randomKey(4) }));
  const loader = new data.DataLoader(ds, { batchSize: 8 });
  await trainer.fit(loader, { epochs: 3, validation: loader, callbacks: [jsonlLogger(log)], verbose: false });

  const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(records.map((r) => r.epoch)).toEqual([1, 2, 3]);
  expect(records[2].lr).toBeLessThan(records[0].lr); // the scheduler's lr is logged as it changes
  for (const r of records) for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr']) expect(typeof r[key]).toBe('number');

  const out: string[] = [];
  const code = await main(['report', log], { out: (t) => out.push(t), err: (t) => out.push(t) });
  expect(code).toBe(0);
  expect(out.join('\n')).toBe(`wrote ${join(dir, 'run.html')}: 1 run, 3 records`);
  const html = readFileSync(join(dir, 'run.html'), 'utf8');
  const groups = [...html.matchAll(/<figure class="scalar" data-group="([^"]+)">/g)].map((m) => m[1]);
  expect(groups.slice(0, 3)).toEqual(['loss', 'accuracy', 'lr']);
  expect(html).toMatch(/data-name="valLoss"/);
  // Self-contained: no scripts, stylesheets or images fetched from anywhere.
  expect(html).not.toMatch(/<script|<link |src="http/);
});
