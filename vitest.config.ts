import { defineConfig } from 'vitest/config';

// Test tiers (see README "Tests"): test/unit needs nothing; test/emulator and test/conformance run
// guest programs from guest/build (built by `npm run build:guest`); test/kvm needs a riscv64 host
// with /dev/kvm and runs for real inside the nested rig (`npm run test:kvm`), skipping elsewhere.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/rig/fixtures/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
