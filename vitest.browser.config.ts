// The WebGPU browser suite (`npm run test:browser`): one vitest file that drives headless Chromium.
// Kept out of `npm test` (vitest.config.ts excludes test/browser/**) so the main run needs no browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 200_000,
    pool: 'forks',
  },
});
