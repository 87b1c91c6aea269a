#!/usr/bin/env node
// Bundle the `kvm-riscv` executable into ONE CommonJS file, dist/cli/kvm-riscv.cjs (package.json
// "bin"), from tsc's output (npm run build runs tsc first: const enums are inlined there, which the
// hot loops depend on). Run: node scripts/bundle-cli.mjs
//
// Why a bundle (issue 5's memory goal counts the whole VMM process; measured on the P3 boot, peak
// beyond guest RAM, 3 runs each: 75.9-78.2 MiB as ES modules, 73.3-74.1 MiB bundled):
//   - an ES-module entry point makes node load its ES module loader, which brings fs/promises,
//     readline and the stream modules (~2.5 MiB resident in Node 20, measured with a one-line
//     script as .mjs and as .cjs); a CommonJS file loads none of them;
//   - one file instead of ~90 modules: no per-module records, and the source text V8 keeps for
//     lazy compilation is ~350 KB without comments and whitespace instead of ~900 KB (several
//     sources held non-Latin-1 characters, which makes V8 store them as two-byte strings; the
//     bundle escapes those, --charset=ascii);
//   - start-up: one file to read and parse (P4 runs the CLI in a nested-KVM guest, where node
//     itself is slow to start).
// Identifiers are kept (whitespace-only minification), so stack traces name the real functions;
// the source map leads back to lib/ through tsc's maps.
//
// The library (dist/lib, "exports") stays ES modules; only the executable is bundled.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI_BUNDLE = join(REPO, 'dist', 'cli', 'kvm-riscv.cjs');

await build({
  entryPoints: [join(REPO, 'dist', 'lib', 'cli', 'main.js')],
  outfile: CLI_BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii',
  minifyWhitespace: true,
  sourcemap: true,
  // import.meta.url (the addon loader and package.json lookups resolve paths from it) becomes
  // the bundle's own file URL: dist/cli/ is as deep under the package root as lib/cli/.
  define: { 'import.meta.url': '__kvmRiscvBundleUrl' },
  // "use strict" first: ES modules are strict, and a directive after the banner would not count.
  banner: { js: '"use strict";const __kvmRiscvBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});
chmodSync(CLI_BUNDLE, 0o755);
