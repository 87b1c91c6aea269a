/**
 * Checked translation of guest physical addresses for SBI handlers.
 *
 * A guest-supplied pointer and length are untrusted: `resolve()` returns the one GuestMemory region
 * that contains the *whole* range [gpa, gpa + length), or undefined when any byte of it is outside
 * RAM, the range wraps past 2^64, or the region was closed. Handlers turn undefined into the SBI
 * error their extension's spec names (e.g. DBCN: SBI_ERR_INVALID_PARAM, SBI v2.0 §12).
 */
import type { GuestMemory } from '../backend/types.js';

const U64_LIMIT = 1n << 64n;

export class GuestAddressSpace {
  private readonly regions: () => readonly GuestMemory[];

  /** `regions` is asked on every lookup, so slots added or deleted later are seen (Vm.memoryRegions). */
  constructor(regions: (() => readonly GuestMemory[]) | readonly GuestMemory[]) {
    this.regions = typeof regions === 'function' ? regions : () => regions;
  }

  resolve(gpa: bigint, length: number): GuestMemory | undefined {
    if (!Number.isSafeInteger(length) || length < 0) return undefined;
    if (gpa < 0n || gpa + BigInt(length) > U64_LIMIT) return undefined;
    for (const r of this.regions()) {
      if (r.closed) continue;
      const end = r.guestPhysAddr + BigInt(r.size);
      if (gpa >= r.guestPhysAddr && gpa + BigInt(length) <= end && (length > 0 || gpa < end)) return r;
    }
    return undefined;
  }

  /** A copy of guest bytes, or undefined when the range is not entirely inside one region. */
  readBytes(gpa: bigint, length: number): Uint8Array | undefined {
    return this.resolve(gpa, length)?.readBytes(gpa, length);
  }

  /** Writes guest bytes; false when the range is not entirely inside one writable region. */
  writeBytes(gpa: bigint, data: Uint8Array): boolean {
    const r = this.resolve(gpa, data.length);
    if (!r || r.readonly) return false;
    r.writeBytes(gpa, data);
    return true;
  }
}
