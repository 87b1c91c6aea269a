/**
 * How the `kvm-riscv` bin is started: which file it is (package.json "bin": the bundle that
 * scripts/bundle-cli.mjs makes of main.ts) and the node flags its `#!/usr/bin/env -S node <flags>`
 * line asks for. The CLI (main.ts) chooses its node flags there; benchmarks and tests that start
 * the CLI as `process.execPath <flags> <bin>` read both here, so what they measure is what an
 * installed `kvm-riscv` runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute path of the file package.json's "bin" names as `kvm-riscv`, in the package at
 * `root` (built by npm run build). */
export function cliBin(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  const bin = pkg.bin?.['kvm-riscv'];
  if (typeof bin !== 'string') throw new Error(`${join(root, 'package.json')}: no "bin" entry for kvm-riscv`);
  return join(root, bin);
}

/** Flags after `node` on the first line of `path`; [] when the line names node without flags.
 * Throws when the first line is not a node shebang (a renamed or rebuilt file would otherwise
 * silently lose them). */
export function shebangNodeFlags(path: string): string[] {
  const first = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env(?: -S)? node((?: +\S+)*) *$/.exec(first);
  if (m === null) throw new Error(`${path}: first line is not a "#!/usr/bin/env [-S] node [flags]" line: ${JSON.stringify(first)}`);
  return m[1]!.split(' ').filter((f) => f !== '');
}
