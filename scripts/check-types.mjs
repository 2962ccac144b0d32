// After `npm run build`: typechecks a tiny consumer project against dist/*.d.ts with skipLibCheck off,
// the way a strict TypeScript user compiles against 'kiln' — a declaration that names a type the
// package does not bring along (the WebGPU types once did) fails here, not in a user's build.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-consumer-'));
try {
  const link = (name, target) => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  };
  link('kiln', root);
  // What npm would install next to kiln: its dependencies, plus the user's own @types/node.
  for (const dep of ['@webgpu/types', '@types/node']) link(dep, join(root, 'node_modules', dep));
  writeFileSync(join(dir, 'main.ts'), [
    "import { tensor, jit, matmul, type Tensor } from 'kiln';",
    "import { loadArtifact } from 'kiln/runtime';",
    'const f = jit((a: Tensor) => matmul(a, a));',
    'export const y: Tensor = f(tensor([[1, 2], [3, 4]]));',
    'export const load = loadArtifact;',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] },
    files: ['main.ts'],
  }));
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { stdio: 'inherit' });
  console.log("check-types: a strict consumer (skipLibCheck off) typechecks against 'kiln' and 'kiln/runtime'");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
