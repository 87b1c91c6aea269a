/**
 * The node flags a script's `#!/usr/bin/env -S node <flags>` line asks for. The CLI (main.ts)
 * chooses its node flags there, where the `kvm-riscv` bin gets them; benchmarks and tests that
 * start the CLI as `process.execPath <flags> main.js` read them here, so what they measure is
 * what an installed `kvm-riscv` runs.
 */
import { readFileSync } from 'node:fs';

/** Flags after `node` on the first line of `path`; [] when the line names node without flags.
 * Throws when the first line is not a node shebang (a renamed or rebuilt file would otherwise
 * silently lose them). */
export function shebangNodeFlags(path: string): string[] {
  const first = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env(?: -S)? node((?: +\S+)*) *$/.exec(first);
  if (m === null) throw new Error(`${path}: first line is not a "#!/usr/bin/env [-S] node [flags]" line: ${JSON.stringify(first)}`);
  return m[1]!.split(' ').filter((f) => f !== '');
}
