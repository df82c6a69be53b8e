import { defineConfig } from 'vitest/config';

// The end-to-end test drives headless Chromium against a running server. Steps run in order in
// one file; the whole run is bounded (see e2e/app.e2e.ts for the hard watchdog).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 15_000,
    bail: 1,
    reporters: ['verbose'],
  },
});
