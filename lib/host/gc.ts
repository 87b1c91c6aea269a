/**
 * A full garbage collection on request, where node offers one (`--expose-gc`, which the
 * `kvm-riscv` bin's first line passes); otherwise nothing.
 *
 * Why the emulator asks: each WebAssembly module its block compiler made holds ~27 KiB of native
 * memory (V8's module and instance metadata, ~15 KiB of malloc'd heap, its code pages, ~7 KiB of
 * JS heap; measured with 300 one-function modules in Node 20), and V8 frees a module only in a
 * full GC, which it schedules by its JavaScript heap's growth alone. In the P3 boot at the init
 * marker 262 modules were still alive of which 75 were reachable: ~5 MiB waiting for a GC that
 * the heap's slow growth did not bring (issue 5's memory goal).
 */
const gc = (globalThis as { gc?: () => void }).gc;

/** True when collectGarbage() can do anything in this process. */
export const canCollectGarbage = typeof gc === 'function';

/** Runs a full GC when node exposes one; returns whether it did. */
export function collectGarbage(): boolean {
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}
