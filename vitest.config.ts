import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    // oclif writes straight to process.stdout; vitest must not swallow it.
    disableConsoleIntercept: true,
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: e2e files spawn many node processes; more workers only add contention.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
