#!/usr/bin/env node
/**
 * The `kvm-riscv` executable (package.json "bin" → dist/lib/cli/main.js). In development:
 *   node --import ./scripts/ts-loader.mjs lib/cli/main.ts run --kernel prog.elf
 */
import { readFileSync } from 'node:fs';
import { runCli, defaultDeps, EXIT_ERROR } from './cli.js';
import { terminalInput } from './host-input.js';

function packageVersion(): string {
  // lib/cli/main.ts and dist/lib/cli/main.js both have package.json up the tree.
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
