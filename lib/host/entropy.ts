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
import { openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Open descriptor of /dev/urandom (kept for the process's life), null before the first call,
 * false where there is none. */
let urandom: number | null | false = null;
let fallback: ((buffer: Uint8Array) => void) | null = null;

/** Fills `buffer` with cryptographically secure random bytes. */
export function hostRandomFill(buffer: Uint8Array): void {
  if (urandom === null) {
    try {
      urandom = openSync('/dev/urandom', 'r');
    } catch {
      urandom = false;
    }
  }
  if (urandom === false) {
    fallbackFill()(buffer);
    return;
  }
  for (let done = 0; done < buffer.length;) {
    const n = readSync(urandom, buffer, done, buffer.length - done, null);
    if (n <= 0) throw new Error('/dev/urandom: unexpected end of file');
    done += n;
  }
}

function fallbackFill(): (buffer: Uint8Array) => void {
  if (fallback === null) {
    const { randomFillSync } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    fallback = (b) => { randomFillSync(b); };
  }
  return fallback;
}
