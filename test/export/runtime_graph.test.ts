// The runtime stands alone: its import graph stays inside src/ir, src/format and src/runtime (no tracer,
// passes, codegen, binaryen or frontend), it bundles small, and a fresh Node process that loads only
// the bundle reproduces the in-process model's outputs.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { exportArtifact } from '../../src/frontend/export/export.js';
import { TinyMlp, randTensor } from './helpers.js';
import { KILN_VERSION } from '../../src/format/version.js';

const ROOT = resolve(__dirname, '../..');
const BACKEND_HALVES = ['src/codegen/wasm/heap.ts', 'src/codegen/wasm/program.ts', 'src/codegen/wgsl/adapter.ts', 'src/codegen/wgsl/exec.ts', 'src/codegen/wgsl/runtime.ts', 'src/codegen/wgsl/types.ts'];

/** Every module reachable from `entry` through static imports, re-exports and literal dynamic imports. */
function importGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    // Type-only imports are erased by the compiler: they are not edges of the runtime graph.
    const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^;]*?from\s+'([^']+)'|import\(\s*(?:\/\*[^*]*\*\/\s*)?'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    for (const s of specs) {
      if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
      else packages.add(s);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), packages: [...packages].sort() };
}

describe('kiln/runtime', () => {
  it('imports only src/ir, src/format, src/runtime and the wasm plan runner, and no packages', () => {
    const { files, packages } = importGraph(join(ROOT, 'src/runtime.ts'));
    expect(files).toContain('src/ir/interpret.ts');
    expect(files).toContain('src/format/container.ts');
    // The wasm backend's binaryen-free half (heap + plan runner) and the webgpu backend's executor half
    // (buffer pool/encoder, plan executor, adapter request, dtype table) are how compiled code runs.
    const allowed = new Set(['src/runtime.ts', ...BACKEND_HALVES]);
    const outside = files.filter((f) => !/^src\/(ir|format|runtime)\//.test(f) && !allowed.has(f));
    expect(outside).toEqual([]);
    expect(packages).toEqual([]);
  });

  it('writes the package version into manifests', () => {
    expect(KILN_VERSION).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('bundles small (esbuild, minified) without binaryen, acorn or node built-ins', async () => {
    const out = await build({
      entryPoints: [join(ROOT, 'src/runtime.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    const code = out.outputFiles[0].text;
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((i) => /binaryen|acorn|frontend|passes|codegen/.test(i)).sort()).toEqual([...BACKEND_HALVES].sort());
    // Recorded in notes/export.md; a bound, not a timing: it catches an accidental import of something big.
    console.log(`kiln/runtime bundle: ${code.length} bytes minified, ${inputs.length} modules`);
    expect(code.length).toBeLessThan(150_000);
  });

  it('a fresh Node process loading only the runtime bundle gives the in-process outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rt-'));
    const model = new TinyMlp();
    await exportArtifact(model, [randTensor([2, 6], 1)], join(dir, 'mlp.kiln'), { batch: 'N', backends: [] });
    const x = randTensor([5, 6], 2);
    const want = Array.from(model.call(x).dataSync());
    await build({ entryPoints: [join(ROOT, 'src/runtime.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'runtime.mjs'), logLevel: 'silent' });
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { loadArtifact } from './runtime.mjs';
const art = await loadArtifact(process.argv[2]);
const [y] = await art.run([{ data: Float32Array.from(JSON.parse(process.argv[3])), shape: [5, 6] }]);
console.log(JSON.stringify({ shape: y.shape, data: Array.from(await y.data()) }));`,
    );
    const stdout = execFileSync(process.execPath, [join(dir, 'main.mjs'), join(dir, 'mlp.kiln'), JSON.stringify(Array.from(x.dataSync()))], { encoding: 'utf8' });
    const got = JSON.parse(stdout) as { shape: number[]; data: number[] };
    expect(got.shape).toEqual([5, 3]);
    expect(got.data).toEqual(want);
  });
});
