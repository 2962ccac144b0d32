// The viz page and the training dashboard render in headless Chromium: each page is opened with a
// fresh profile, screenshotted, and checked for its expected elements and non-empty layout. Skipped
// (with the reason in the test name) when /usr/bin/chromium is absent: `apt-get install -y chromium`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k from '../../src/index.js';
import { CHROMIUM } from '../browser/harness.js';

const available = existsSync(CHROMIUM);
const why = available ? '' : ` (skipped: no Chromium at ${CHROMIUM}; apt-get install -y chromium or set KILN_CHROMIUM)`;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

type Context = Awaited<ReturnType<typeof import('playwright-core')['chromium']['launchPersistentContext']>>;

describe.skipIf(!available)(`pages in headless Chromium${why}`, () => {
  let context: Context;
  let profile: string;
  const shots = mkdtempSync(join(tmpdir(), 'kiln-shots-'));

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1400, height: 1000 } });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  async function open(html: string, name: string) {
    const file = join(shots, `${name}.html`);
    writeFileSync(file, html);
    const page = await context.newPage();
    await page.goto(`file://${file}`);
    const png = await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    // A PNG, and not a blank one: a rendered page compresses to more than a few hundred bytes.
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(png.length).toBeGreaterThan(5000);
    return page;
  }

  it('the viz page shows both graphs, kernels as clusters, and the kernel table', async () => {
    const head = (x: k.Tensor, w: k.Tensor) => k.softmax(k.relu(k.matmul(x, w)), { axis: -1 });
    const args = [k.tensor(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i))).reshape([16, 4]), k.tensor(Float32Array.from({ length: 12 }, (_, i) => Math.cos(i))).reshape([4, 3])];
    const v = k.fusionViews(head, args);
    const page = await open(k.vizHtml(v.before, v.after, { profile: k.profileKernels(head, args, { iterations: 2 }) }), 'viz');
    expect(await page.locator('svg.kiln-graph').count()).toBe(2);
    expect(await page.locator('#after g.cluster').count()).toBe(v.kernels);
    expect(await page.locator('#before g.cluster').count()).toBe(0);
    expect(await page.locator('#after g.node[data-kind="output"]').count()).toBe(1);
    expect(await page.locator('table.kernels tr.kernel-row').count()).toBe(v.kernels);
    expect(await page.locator('#summary').textContent()).toContain(`${v.kernels} fusion kernel`);
    // Laid out for real: the graphs have size, and the clusters' boxes are inside their SVG.
    const svgBox = await page.locator('#after svg.kiln-graph').boundingBox();
    expect(svgBox!.width).toBeGreaterThan(100);
    expect(svgBox!.height).toBeGreaterThan(200);
    const cluster = await page.locator('#after g.cluster rect').first().boundingBox();
    expect(cluster!.x).toBeGreaterThanOrEqual(svgBox!.x);
    expect(cluster!.y + cluster!.height).toBeLessThanOrEqual(svgBox!.y + svgBox!.height + 1);
    await page.close();
  });

  it('the training report shows a chart per scalar with its curves and points', async () => {
    const records = Array.from({ length: 8 }, (_, i) => ({ epoch: i + 1, loss: 2 / (i + 1), valLoss: 2.2 / (i + 1) + 0.05, accuracy: 0.3 + 0.08 * i, valAccuracy: 0.28 + 0.08 * i, lr: 0.01 * 0.7 ** i, seconds: 3 }));
    const page = await open(k.reportHtml([{ name: 'run', records }]), 'report');
    expect(await page.locator('figure.scalar').count()).toBe(4); // loss, accuracy, lr, seconds
    expect(await page.locator('figure[data-group="loss"] polyline.series').count()).toBe(2);
    expect(await page.locator('figure[data-group="accuracy"] polyline.series').count()).toBe(2);
    expect(await page.locator('figure[data-group="lr"] circle.point').count()).toBe(8);
    expect(await page.locator('table.summary tr').count()).toBe(2);
    const chart = await page.locator('figure[data-group="loss"] svg.chart').boundingBox();
    expect(chart!.width).toBeGreaterThan(300);
    // The loss curve goes down the page as loss falls: its last point is lower on screen than its first.
    const pts = page.locator('figure[data-group="loss"] polyline.series[data-name="loss"]');
    const coords = ((await pts.getAttribute('points')) ?? '').split(' ').map((p) => p.split(',').map(Number));
    expect(coords[coords.length - 1][1]).toBeGreaterThan(coords[0][1]);
    await page.close();
  });
});

it.skipIf(available)(`headless Chromium page tests are skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`, () => {});
