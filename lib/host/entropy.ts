/**
 * Random bytes for the guest (/chosen/rng-seed, virtio-rng) from the host kernel's CSPRNG.
 *
 * Why not node:crypto's randomFillSync: importing node:crypto loads its whole JavaScript module
 * tree (ciphers, keys, WebCrypto, X.509), ~2.3 MiB of resident memory in Node 20 measured with
 * `node -e` — a cost the VMM would pay in every process for a few dozen bytes (issue 5's memory
 * goal counts the whole VMM process). On Linux and macOS /dev/urandom is the same generator
 * (random(4), never blocks once seeded at boot), read with plain fs calls node has loaded anyway;
 * elsewhere (Windows) node:crypto is loaded on first use.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/** False once /dev/urandom could not be opened: node:crypto from then on. */
let haveUrandom = true;
let fallback: ((buffer: Uint8Array) => void) | null = null;

/** Fills `buffer` with cryptographically secure random bytes. /dev/urandom is opened for each call
 * (a descriptor kept open could be closed or reused behind the library's back; calls are few: the
 * boot's rng-seed and the guest's entropy requests of at most 64 KiB). */
export function hostRandomFill(buffer: Uint8Array): void {
  let fd = -1;
  if (haveUrandom) {
    try {
      fd = openSync('/dev/urandom', 'r');
    } catch {
      haveUrandom = false;
    }
  }
  if (fd < 0) {
    fallbackFill()(buffer);
    return;
  }
  try {
    for (let done = 0; done < buffer.length;) {
      const n = readSync(fd, buffer, done, buffer.length - done, null);
      if (n <= 0) throw new Error('/dev/urandom: unexpected end of file');
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

function fallbackFill(): (buffer: Uint8Array) => void {
  if (fallback === null) {
    const { randomFillSync } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    fallback = (b) => { randomFillSync(b); };
  }
  return fallback;
}
