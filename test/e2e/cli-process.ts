/** Spawns the kvm-riscv CLI from source through scripts/ts-loader.mjs (or, with `bin`, the built
 * file package.json's "bin" names: the bundle of npm run build), with the node flags of its bin
 * (lib/cli/main.ts's first line) and a hard kill timeout. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliBin, shebangNodeFlags } from '../../lib/cli/node-flags.js';
import { builtFile } from '../support/paths.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOADER = join(REPO_ROOT, 'scripts', 'ts-loader.mjs');
const MAIN = join(REPO_ROOT, 'lib', 'cli', 'main.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Typed into the CLI's stdin `afterMs` after `when` first shows on its stdout (stdin stays open). */
export interface CliAnswer { when: string; text: string; afterMs: number }

export function spawnCli(args: readonly string[], opts: { killAfterMs?: number; input?: string; sigintWhenStderr?: RegExp; answer?: CliAnswer; bin?: boolean } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let node: string[];
    if (opts.bin) {
      const bin = builtFile(cliBin(REPO_ROOT));
      node = [...shebangNodeFlags(bin), bin];
    } else {
      node = [...shebangNodeFlags(MAIN), '--import', LOADER, MAIN];
    }
    const child = spawn(process.execPath, [...node, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const a = opts.answer;
      if (a && !answered && stdout.includes(a.when)) {
        answered = true;
        setTimeout(() => child.stdin.end(a.text), a.afterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // Interrupt only once the CLI says it is running the guest (its SIGINT handler is installed).
      if (opts.sigintWhenStderr && !interrupted && opts.sigintWhenStderr.test(stderr)) {
        interrupted = true;
        setTimeout(() => child.kill('SIGINT'), 100);
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 30_000);
    let interrupted = false;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.answer) child.stdin.write(opts.input ?? '');
    else child.stdin.end(opts.input ?? '');
  });
}
