/**
 * Where the tests find the repository and the guest programs.
 *
 * The same test files run from a checkout under vitest and, bundled, inside the nested riscv64 rig
 * where process.cwd() need not be the checkout; there the rig sets KVM_RISCV_ROOT.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let cachedRoot: string | undefined;

/** The repository root: $KVM_RISCV_ROOT, else the nearest directory above process.cwd() holding
 * the package.json named "kvm-riscv". */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const fromEnv = process.env.KVM_RISCV_ROOT;
  if (fromEnv) return (cachedRoot = resolve(fromEnv));
  let dir = resolve(process.cwd());
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'kvm-riscv') return (cachedRoot = dir);
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find the kvm-riscv checkout above ${process.cwd()}; set KVM_RISCV_ROOT`);
    }
    dir = parent;
  }
}

/** <root>/guest/build: output of guest/build.sh. */
export function guestBuildDir(): string {
  return join(repoRoot(), 'guest', 'build');
}

/** <root>/guest/build/<name>.<ext> (ext 'bin' = flat image, 'elf' = with symbols). */
export function guestArtifact(name: string, ext: 'bin' | 'elf' = 'bin'): string {
  if (!/^[a-z0-9_-]+$/i.test(name)) throw new RangeError(`bad guest program name '${name}'`);
  return join(guestBuildDir(), `${name}.${ext}`);
}

/** `path`, a file `npm run build` makes (dist/, the CLI bundle); throws, naming the command, when
 * it is missing (the CI builds before it tests). */
export function builtFile(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return path;
}
