/**
 * lib/backend/emulator/warmup-image.ts is generated from guest/warmup/warmup.S (scripts/
 * gen-warmup-image.mjs) and checked in, so the library needs no binutils at run time. This test
 * assembles the source again (guest/warmup/assemble.sh, Debian's riscv64 binutils as for every
 * guest program) and requires the checked-in bytes to be exactly that image.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { warmupImage } from '../../lib/backend/emulator/warmup.js';
import { repoRoot } from '../support/paths.js';

it('the checked-in warm-up image is warmup.S assembled (else: node scripts/gen-warmup-image.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warmup-image-'));
  try {
    const bin = join(dir, 'warmup.bin');
    execFileSync('bash', [join(repoRoot(), 'guest', 'warmup', 'assemble.sh'), bin], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    const fresh = new Uint8Array(readFileSync(bin));
    const shipped = warmupImage();
    expect(shipped.length).toBe(fresh.length);
    const firstDiff = shipped.findIndex((b, i) => b !== fresh[i]);
    expect(firstDiff, `first differing byte offset (regenerate with node scripts/gen-warmup-image.mjs)`).toBe(-1);
    // The program starts with `li sp, STACK_TOP` (lui sp, ...): a sanity check that the bytes are code.
    expect(fresh[0] & 0x7f).toBe(0x37);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
