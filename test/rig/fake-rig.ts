// A sandbox for host tests of the rig's scripts (scripts/rig/*.sh): a temp dir whose bin/ puts the
// stand-in QEMU (test/rig/fixtures/fake-qemu.sh) first on PATH, an empty prebuilt base (kernel and
// cpio) so nothing is downloaded, and a runner that starts a script with the environment every such
// test needs (no builds, a private rig cache). useFakeRig() registers its own setup and teardown.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const REPO = resolve(import.meta.dirname, '..', '..');

export interface ScriptResult { code: number; stdout: string; stderr: string }

export interface FakeRig {
  /** Runs scripts/rig/<script> with args; `env` is added on top of the sandbox's environment. */
  run(script: string, args: string[], env: Record<string, string>): Promise<ScriptResult>;
  /** Writes a canned guest console into the sandbox and returns its path (FAKE_QEMU_CONSOLE). */
  consoleFile(text: string, name?: string): string;
}

export function useFakeRig(prefix: string): FakeRig {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(join(dir, 'bin'));
    symlinkSync(join(REPO, 'test/rig/fixtures/fake-qemu.sh'), join(dir, 'bin', 'qemu-system-riscv64'));
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'Image'), '');
    writeFileSync(join(dir, 'base', 'base.cpio'), '');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    run: (script, args, env) => new Promise((done) => {
      execFile('bash', [join(REPO, 'scripts/rig', script), ...args], {
        cwd: REPO,
        timeout: 60_000,
        env: {
          ...process.env,
          PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
          KVM_RIG_BASE_DIR: join(dir, 'base'),
          RIG_CACHE: join(dir, 'cache'),
          KVM_RIG_SKIP_BUILD: '1',
          ...env,
        },
      }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        done({ code, stdout, stderr });
      });
    }),
    consoleFile(text, name = `console-${Math.random().toString(36).slice(2)}`) {
      const file = join(dir, `${name}.console`);
      writeFileSync(file, text);
      return file;
    },
  };
}
