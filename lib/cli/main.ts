#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=1 --heap-growing-percent=30 --expose-gc --retain-maps-for-n-gc=16
/**
 * The `kvm-riscv` executable (package.json "bin" → dist/cli/kvm-riscv.cjs, the bundle that
 * scripts/bundle-cli.mjs makes of this file and what it imports). In development:
 *   node --import ./scripts/ts-loader.mjs lib/cli/main.ts run --kernel prog.elf
 *
 * The node flags on the first line are for the VMM's memory (issue 5), measured on the P3 boot
 * (`npm run bench:p3:memory`, peak beyond guest RAM, 3 runs each: 107-115 MiB without them,
 * 94-97 MiB with them, same boot time):
 *   --v8-pool-size=1: one V8 worker thread instead of four. Each thread that compiles (TurboFan,
 *     Liftoff) gets its own glibc malloc arena, and glibc keeps an arena's freed memory; with four
 *     the arenas held ~8 MiB more than one does.
 *   --max-semi-space-size=1 (MiB): the young generation stays at 2 MiB instead of growing to
 *     16 MiB; the emulator allocates little per instruction, so scavenges stay cheap.
 *   --heap-growing-percent=30: the next full GC comes when the old generation has grown by 30%,
 *     not by V8's default factor for small heaps (up to 4x). Superseded WebAssembly page-group
 *     modules and the decode cache's dropped arrays are freed by full GCs only; the P3 boot then
 *     runs 3 full GCs instead of 1 (about 1 ms each) and peaks 3-4 MiB lower (9 runs each,
 *     median 83.4 vs 87.1 MiB).
 *   --expose-gc: lets the emulator's block compiler ask for a full GC after it has released many
 *     WebAssembly modules, which V8 frees only then (lib/host/gc.ts; P3 peak 73.8-76.0 ->
 *     71.2-72.4 MiB, 5 runs each).
 *   --retain-maps-for-n-gc=16: V8 keeps an object shape (map) nobody uses for 2 full GCs by
 *     default; with the extra GCs, shapes that the optimised interpreter loop checks against died
 *     and took its machine code with them (--trace-deopt: "weak objects"), and V8 compiled the loop
 *     again twice per boot, ~30 ms and ~7 MiB of compiler memory each time (P3 peak then
 *     70.6-71.4 MiB, 5 runs each).
 * `env -S` (coreutils >= 8.30) splits them (the bundle keeps this line); lib/cli/node-flags.ts
 * reads them back for the benchmarks and tests that start the CLI with process.execPath, so they
 * run what users run.
 */
import { readFileSync } from 'node:fs';
import { runCli, defaultDeps, EXIT_ERROR } from './cli.js';
import { terminalInput } from './host-input.js';

function packageVersion(): string {
  // package.json is two levels up from dist/cli/kvm-riscv.cjs, three from lib/cli/main.ts and
  // dist/lib/cli/main.js.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kvm-riscv' && pkg.version) return pkg.version;
    } catch { /* try the next */ }
  }
  return 'unknown';
}

// A reader that goes away (`kvm-riscv run ... | head -1`) must not crash the VMM with EPIPE: the
// guest keeps running, its further output is dropped.
let stdoutBroken = false;
process.stdout.on('error', () => { stdoutBroken = true; });

const abort = new AbortController();
const onSigint = (): void => abort.abort();
process.once('SIGINT', onSigint);

const deps = defaultDeps(packageVersion());
runCli(process.argv.slice(2), {
  ...deps,
  stdout: { write: (b) => { if (!stdoutBroken) deps.stdout.write(b); } },
  input: terminalInput(),
  signal: abort.signal,
})
  .catch((e: unknown) => {
    process.stderr.write(`kvm-riscv: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return EXIT_ERROR;
  })
  .then((code) => {
    process.off('SIGINT', onSigint);
    // Exit once stdout has taken everything (pipes may still hold the guest's last bytes).
    if (stdoutBroken) process.exit(code);
    else process.stdout.write('', () => process.exit(code));
  });
