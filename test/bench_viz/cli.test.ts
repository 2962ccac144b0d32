// kiln bench / viz / report, driven in-process through main() with captured output.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

const fixture = join(import.meta.dirname, 'fixtures', 'head.ts');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('kiln bench', () => {
  it('benchmarks the module function and prints the report', async () => {
    const r = await run(['bench', fixture, '--iterations', '2', '--warmup', '0', '--device', 'cpu-ref']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain("benchmark head on 'cpu-ref'");
    expect(r.out).toMatch(/ops traced -> \d+ kernels?,/);
  });

  it('--json and --name', async () => {
    const r = await run(['bench', fixture, '--name', 'scaled', '--iterations', '1', '--json', '--no-eager', '--device', 'cpu-ref']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.eager).toBeNull();
    expect(j.jit.kernels).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await run(['bench'])).code).toBe(2);
    expect((await run(['bench', fixture, '--iterations', 'x'])).code).toBe(2);
    const missing = await run(['bench', fixture, '--name', 'nope', '--device', 'cpu-ref']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('has no export nope');
    expect(missing.err).not.toContain('kiln bench: kiln bench');
  });
});

describe('kiln viz', () => {
  it('writes the page, the dot file and a profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-viz-'));
    const r = await run(['viz', fixture, '--out', join(dir, 'g.html'), '--dot', join(dir, 'g.dot'), '--profile', '--iterations', '2', '--device', 'cpu-ref']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*g\.html: \d+ kernels?, \d+ bytes of intermediates, profiled [\d.]+ ms per call on 'cpu-ref'/);
    const html = readFileSync(join(dir, 'g.html'), 'utf8');
    expect(html.match(/class="kiln-graph"/g)).toHaveLength(2);
    expect(html).toContain('<th>ms</th>');
    expect(readFileSync(join(dir, 'g.dot'), 'utf8')).toMatch(/^digraph "head"/);
  });

  it('needs --out', async () => {
    expect((await run(['viz', fixture])).code).toBe(2);
  });
});

describe('kiln report', () => {
  it('renders one or more logs, next to the first by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    writeFileSync(a, [1, 2, 3].map((e) => JSON.stringify({ epoch: e, loss: 1 / e, lr: 0.1 / e })).join('\n') + '\nnot json\n');
    writeFileSync(b, [1, 2].map((e) => JSON.stringify({ epoch: e, loss: 2 / e })).join('\n'));
    const r = await run(['report', a, b]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${join(dir, 'a.html')}: 2 runs, 5 records, 1 line(s) skipped`);
    const html = readFileSync(join(dir, 'a.html'), 'utf8');
    expect(html).toMatch(/data-name="a: loss"/);
    expect(html).toMatch(/data-name="b: loss"/);
    const custom = await run(['report', a, '--out', join(dir, 'r.html'), '--title', 'mine']);
    expect(custom.code).toBe(0);
    expect(existsSync(join(dir, 'r.html'))).toBe(true);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('<title>mine</title>');
  });

  it('a missing file is a KilnError (exit 1); no file is a usage error', async () => {
    expect((await run(['report', '/nonexistent/x.jsonl'])).code).toBe(1);
    expect((await run(['report'])).code).toBe(2);
  });

  it('the overview lists the new commands', async () => {
    const r = await run(['--help']);
    for (const c of ['bench', 'viz', 'report']) expect(r.out).toMatch(new RegExp(`\\n  ${c} +`));
  });
});
