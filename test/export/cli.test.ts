// The kiln CLI in-process: inspect, run (npy and json in and out), export from a module file, convert
// IDX/CSV into shards that ShardDataset streams through a DataLoader, and exit codes for mistakes.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { serializeNpy, parseNpy } from '../../src/format/npy.js';
import { ShardDataset } from '../../src/frontend/data/shard.js';
import { DataLoader } from '../../src/frontend/data/loader.js';
import { TinyMlp, randTensor } from './helpers.js';

function capture(): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t + '\n'), err: (t: string) => void (io.stderr += t + '\n') };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
const model = new TinyMlp();

describe('kiln CLI', () => {
  it('inspect and run an artifact, with .npy and .json inputs and outputs', async () => {
    const path = join(dir, 'mlp.kiln');
    await exportArtifact(model, [randTensor([2, 6], 1)], path, { batch: 'N', backends: [] });
    const io = capture();
    expect(await main(['inspect', path], io)).toBe(0);
    expect(io.stdout).toMatch(/artifact TinyMlp[\s\S]*inputs: {2}x: f32\[N,6\][\s\S]*outputs: output: f32\[N,3\][\s\S]*interpreter \(\d+ kernels\)[\s\S]*ir /);

    const x = randTensor([3, 6], 2);
    const want = Array.from(model.call(x).dataSync());
    writeFileSync(join(dir, 'x.npy'), serializeNpy({ dtype: 'float32', shape: [3, 6], data: Float32Array.from(x.dataSync()) }));
    const run = capture();
    expect(await main(['run', path, join(dir, 'x.npy')], run)).toBe(0);
    expect(run.stdout).toMatch(/^output: f32\[3,3\] = \[\[/);
    expect(await main(['run', path, join(dir, 'x.npy'), '--out', join(dir, 'y.npy')], capture())).toBe(0);
    expect(Array.from(parseNpy(new Uint8Array(readFileSync(join(dir, 'y.npy')))).data)).toEqual(want);
    writeFileSync(join(dir, 'x.json'), JSON.stringify(x.tolist()));
    expect(await main(['run', path, join(dir, 'x.json'), '--out', join(dir, 'y.json')], capture())).toBe(0);
    const y = JSON.parse(readFileSync(join(dir, 'y.json'), 'utf8')) as Record<string, { shape: number[]; data: number[] }>;
    expect(y.output.shape).toEqual([3, 3]);
    expect(y.output.data).toEqual(want);
    // --backend: the interpreter gives the same; webgpu without a GPU (Node here) is a KilnError (exit 1).
    const interp = capture();
    expect(await main(['run', path, join(dir, 'x.npy'), '--backend', 'interpreter', '--max-loop-iterations', '10'], interp)).toBe(0);
    expect(interp.stdout).toBe(run.stdout);
    const gpu = capture();
    const withGpu = join(dir, 'mlp_gpu.kiln');
    await exportArtifact(model, [randTensor([2, 6], 1)], withGpu, { backends: ['webgpu'] });
    expect(await main(['run', withGpu, join(dir, 'x.npy'), '--backend', 'webgpu'], gpu)).toBe(1);
    expect(gpu.stderr).toMatch(/kiln run: loadArtifact: the WebGPU code of TinyMlp does not load here: no WebGPU adapter was found/);
    expect(await main(['run', path, join(dir, 'x.npy'), '--backend', 'cuda'], capture())).toBe(2);
    expect(await main(['run', path, join(dir, 'x.npy'), '--max-loop-iterations', 'lots'], capture())).toBe(2);
  });

  it('exit codes: 1 for a KilnError (tampered file), 2 for usage mistakes', async () => {
    const path = join(dir, 'bad.kiln');
    const bytes = await exportArtifact(model, [randTensor([2, 6], 1)], { backends: [] });
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(path, bytes);
    const io = capture();
    expect(await main(['inspect', path], io)).toBe(1);
    expect(io.stderr).toMatch(/kiln inspect: artifact: section weights does not match its SHA-256/);
    expect(await main(['frobnicate'], capture())).toBe(2);
    const usage = capture();
    expect(await main(['run', path], usage)).toBe(2);
    expect(usage.stderr).toMatch(/usage: kiln run/);
    expect(await main(['run', '--bogus'], capture())).toBe(2);
    const help = capture();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.stdout).toMatch(/convert/);
  });

  it('export from a module file', async () => {
    const out = join(dir, 'from_module.kiln');
    const io = capture();
    expect(await main(['export', join(__dirname, 'fixtures/export_module.ts'), '--out', out], io)).toBe(0);
    expect(io.stdout).toMatch(/wrote .*from_module.kiln/);
    const info = capture();
    await main(['inspect', out], info);
    expect(info.stdout).toMatch(/features: f32\[N,6\]/);
  });

  it('convert IDX (gzipped) into a shard that a DataLoader streams', async () => {
    // 5 images of 2x3 and their labels, in the IDX layout written by hand.
    const imgs = Uint8Array.from({ length: 30 }, (_, i) => (i * 37) % 256);
    const idxImages = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 3, ...imgs]);
    const idxLabels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 5, 3, 1, 4, 1, 5]);
    writeFileSync(join(dir, 'img.idx.gz'), gzipSync(idxImages));
    writeFileSync(join(dir, 'lab.idx'), idxLabels);
    const shard = join(dir, 'train.kshard');
    const io = capture();
    expect(await main(['convert', '--images', join(dir, 'img.idx.gz'), '--labels', join(dir, 'lab.idx'), '--out', shard], io)).toBe(0);
    expect(io.stdout).toMatch(/5 samples, image uint8\[2,3\] \+ label i32, 10 bytes per record/);
    const ds = new ShardDataset(shard);
    expect(ds.length).toBe(5);
    const [x, y] = ds.getBatch(Int32Array.of(4, 0));
    expect(x.shape).toEqual([2, 2, 3]);
    expect(Array.from(x.dataSync())).toEqual([...Array.from(imgs.subarray(24, 30)), ...Array.from(imgs.subarray(0, 6))].map((v) => Math.fround(v * (1 / 255))));
    expect(Array.from(y.dataSync())).toEqual([5, 3]);
    const batches = [...new DataLoader(ds, { batchSize: 2 })];
    expect(batches.map((b) => (b as unknown as [unknown, { shape: number[] }])[1].shape)).toEqual([[2], [2], [1]]);
    ds.close();
    // A truncated shard is refused when opened.
    writeFileSync(join(dir, 'cut.kshard'), readFileSync(shard).subarray(0, 60));
    expect(() => new ShardDataset(join(dir, 'cut.kshard'))).toThrow(/truncated/);
  });

  it('convert CSV with a named label column', async () => {
    writeFileSync(join(dir, 't.csv'), 'a,label,b\n0.5,1,2\n-1.5,0,4\n');
    expect(await main(['convert', '--csv', join(dir, 't.csv'), '--label', 'label', '--out', join(dir, 't.kshard')], capture())).toBe(0);
    const ds = new ShardDataset(join(dir, 't.kshard'));
    const [f, l] = ds.getBatch(Int32Array.of(0, 1));
    expect(Array.from(f.dataSync())).toEqual([0.5, 2, -1.5, 4]);
    expect(Array.from(l.dataSync())).toEqual([1, 0]);
    ds.close();
  });
});
