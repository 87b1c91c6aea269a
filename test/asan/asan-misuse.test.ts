/**
 * `npm run test:asan` as a test: the addon misuse checks (scripts/asan/misuse.cjs) against the
 * AddressSanitizer build (scripts/asan/build.sh, .cache/asan) on this host's /dev/kvm. Pass: every
 * check passes and ASan wrote no report (scripts/asan/run.sh counts them, child processes and
 * workers included).
 *
 * Runs only where that build already exists and /dev/kvm opens (build it with
 * `bash scripts/asan/build.sh`, or run `npm run test:asan` once); building it here would cost a
 * plain `npm test` ~25 s of compiling.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const ASAN_ADDON = join(ROOT, '.cache', 'asan', 'build', 'Release', 'kvm_riscv.node');

function usable(): boolean {
  if (process.platform !== 'linux' || !existsSync(ASAN_ADDON)) return false;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!usable())('addon misuse under AddressSanitizer (npm run test:asan)', () => {
  it('every misuse gets its documented error, and ASan reports nothing', () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'asan', 'run.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const failures = out.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(failures).toEqual([]);
    expect(out).toMatch(/^misuse: 10 checks, 0 failed, \d+ calls/m);
    expect(out).toMatch(/AddressSanitizer reports: 0 \(0 report files\)/);
    expect(r.status).toBe(0);
  }, 250_000);
});
