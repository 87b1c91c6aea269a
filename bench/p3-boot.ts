// The boot bench:p3 (p3-linux-boot.ts) times and bench:p3:memory (p3-memory-timeline.ts) watches:
// Debian's kernel with the e2e initramfs to its init marker, 1 hart, 256 MiB, the kvm-riscv bin
// started as installed (package.json's "bin" with the node flags of its first line).
import type { Readable } from 'node:stream';
import { cliBin, shebangNodeFlags } from '../lib/cli/node-flags.js';

export const MARKER = 'KVM-RISCV-E2E: init running';
export const CMDLINE = 'console=ttyS0 quiet cryptomgr.notests';
/** -m 256M on every side. */
export const RAM_BYTES = 256 << 20;

/** process.execPath's arguments for `kvm-riscv run` of that boot on the emulator, with extra node
 * flags after the bin's own. */
export function emulatorBootArgs(repo: string, image: string, initrd: string, nodeFlags: readonly string[] = []): string[] {
  const bin = cliBin(repo);
  return [
    ...shebangNodeFlags(bin), ...nodeFlags, bin, 'run',
    '--kernel', image, '--initrd', initrd, '-m', '256M', '--append', CMDLINE, '--backend', 'emulator', '--no-stats',
  ];
}

/** Calls `onMarker` once, when MARKER has shown on `stdout` (read as latin1). */
export function watchForMarker(stdout: Readable, onMarker: () => void): void {
  let seen = '';
  let done = false;
  stdout.setEncoding('latin1').on('data', (d: string) => {
    if (done) return;
    // Keep only a marker's length of old text: a marker may straddle two chunks.
    seen = seen.slice(-MARKER.length) + d;
    if (!seen.includes(MARKER)) return;
    done = true;
    onMarker();
  });
}
