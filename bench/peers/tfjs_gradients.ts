// Registers TensorFlow.js's gradients. tfjs-core's Node bundle has none (the @tensorflow/tfjs umbrella
// package imports them from ESM files that Node cannot load: they use directory imports), so they are
// bundled here with esbuild. The bundle's copy of the ops shares tfjs's global engine and registries.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export async function registerTfjsGradients(): Promise<void> {
  const esbuild = await import('esbuild');
  const entry = join(require.resolve('@tensorflow/tfjs-core/package.json'), '..', 'dist', 'register_all_gradients.js');
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' });
  const file = join(mkdtempSync(join(tmpdir(), 'kiln-tfjs-grads-')), 'register_all_gradients.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  await import(pathToFileURL(file).href);
}
