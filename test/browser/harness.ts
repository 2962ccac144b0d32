// Runs a test entry in headless Chromium with WebGPU on SwiftShader: bundles it with esbuild, serves
// it from 127.0.0.1 (WebGPU needs a secure context: localhost is one, about:blank and data: are not),
// and collects what the page reports on `window.__kiln`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-gpu-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface CaseResult {
  group: string;
  name: string;
  ok: boolean;
  detail?: string;
  ms: number;
}

export interface PageReport {
  adapter: string;
  results: CaseResult[];
  /** Uncaught errors of the page, if the suite died. */
  fatal?: string;
}

/**
 * binaryen (the wasm backend's compiler, ~10 MB, Node-flavoured) stands in as an inert proxy: pages
 * that test webgpu never compile wasm, but importing the frontend registers the wasm device.
 */
const STUB_BINARYEN = 'const p = new Proxy(function () {}, { get: () => p, apply: () => p, construct: () => p }); export default p;';

/** Bundles `entry` for the browser (esbuild resolves our `.js` imports to the `.ts` sources). */
export async function bundle(entry: string, opts: { binaryen?: boolean } = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const plugins = opts.binaryen
    ? []
    : [{
        name: 'stub-binaryen',
        setup(b: import('esbuild').PluginBuild) {
          b.onResolve({ filter: /^binaryen$/ }, () => ({ path: 'binaryen', namespace: 'kiln-stub' }));
          b.onLoad({ filter: /.*/, namespace: 'kiln-stub' }, () => ({ contents: STUB_BINARYEN, loader: 'js' }));
        },
      }];
  const out = await esbuild.build({
    plugins,
    // binaryen reaches for Node modules only after checking that it runs in Node.
    external: ['node:*'],
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    define: { 'process.env.KILN_DUMP': 'undefined' },
  });
  return out.outputFiles[0].text;
}

/** The Kiln sources a page built from kiln/runtime alone may hold: the runtime and the backends' run-only halves. */
export const RUNTIME_ONLY = /^src\/(ir|format|runtime)\/|^src\/runtime\.ts$|^src\/codegen\/wasm\/(heap|program)\.ts$|^src\/codegen\/wgsl\/(adapter|exec|runtime|types)\.ts$/;

/** Bundles a kiln/runtime page (no binaryen stub: it must not need binaryen) with `define`d data; returns its code and the Kiln sources it holds. */
export async function bundleRuntimePage(entry: string, define: Record<string, string>): Promise<{ code: string; modules: string[] }> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', metafile: true, define });
  return { code: out.outputFiles[0].text, modules: Object.keys(out.metafile.inputs).filter((p) => p.startsWith('src/')) };
}

/** Runs the bundled page and waits for its report (`window.__kiln`), at most `timeoutMs`. */
export async function runPage(code: string, opts: { timeoutMs?: number; log?: (line: string) => void; filter?: string; args?: readonly string[] } = {}): Promise<PageReport> {
  const { chromium } = await import('playwright-core');
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>kiln webgpu</title></head><body><script type="module" src="/suite.js"></script></body></html>';
  const server = http.createServer((req, res) => {
    if (req.url === '/suite.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(code);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // playwright gives every launch a fresh temporary profile (the --user-data-dir it manages itself).
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...(opts.args ?? CHROMIUM_ARGS)] });
  try {
    const page = await browser.newPage();
    let fatal: string | undefined;
    page.on('console', (m) => opts.log?.(m.text()));
    page.on('pageerror', (e) => (fatal ??= String(e.stack ?? e)));
    await page.goto(`http://127.0.0.1:${port}/${opts.filter ? `?filter=${encodeURIComponent(opts.filter)}` : ''}`);
    const timeout = opts.timeoutMs ?? 150_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      const report = (await page.evaluate('window.__kiln ?? null')) as PageReport | null;
      if (report) return fatal ? { ...report, fatal } : report;
      if (fatal) return { adapter: '?', results: [], fatal };
      if (Date.now() > deadline) {
        const partial = (await page.evaluate('window.__kilnPartial ?? []')) as CaseResult[];
        return { adapter: '?', results: partial, fatal: `the page did not finish within ${timeout} ms` };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await browser.close();
    server.close();
  }
}
