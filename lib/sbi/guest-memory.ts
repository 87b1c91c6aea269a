/**
 * Checked translation of guest physical addresses for SBI handlers.
 *
 * A guest-supplied pointer and length are untrusted: `resolve()` returns the one GuestMemory region
 * that contains the *whole* range [gpa, gpa + length), or undefined when any byte of it is outside
 * RAM, the range wraps past 2^64, or the region was closed. Handlers turn undefined into the SBI
 * error their extension's spec names (e.g. DBCN: SBI_ERR_INVALID_PARAM, SBI v2.0 §12).
 */
import type { GuestMemory } from '../backend/types.js';
import { checkInteger, checkMethods, checkU64, describeValue } from '../option-checks.js';

const U64_LIMIT = 1n << 64n;

/** The fields resolve() and the handlers use of each region (lib/backend/types.ts GuestMemory). */
function checkRegion(r: unknown, i: number): void {
  const who = 'GuestAddressSpace';
  checkMethods(who, `regions[${i}]`, r, ['readBytes', 'writeBytes'], false);
  const { guestPhysAddr, size } = r as { guestPhysAddr: unknown; size: unknown };
  checkU64(who, `regions[${i}].guestPhysAddr`, guestPhysAddr);
  checkInteger(who, `regions[${i}].size`, size, 0, Number.MAX_SAFE_INTEGER);
}

export class GuestAddressSpace {
  private readonly regions: () => readonly GuestMemory[];

  /** `regions` is asked on every lookup, so slots added or deleted later are seen (Vm.memoryRegions). */
  constructor(regions: (() => readonly GuestMemory[]) | readonly GuestMemory[]) {
    // Checked here: resolve() first runs when the guest uses the SBI console, far from this call.
    if (typeof regions === 'function') {
      this.regions = regions;
      return;
    }
    if (!Array.isArray(regions)) throw new TypeError(`GuestAddressSpace: regions must be an array of GuestMemory or a function returning one, got ${describeValue(regions)}`);
    regions.forEach((r: unknown, i) => checkRegion(r, i));
    const fixed = [...regions]; // a later change to the caller's array is not a change of RAM
    this.regions = () => fixed;
  }

  resolve(gpa: bigint, length: number): GuestMemory | undefined {
    // The address's type is the host's (handlers get guest registers as bigints); its value is the
    // guest's, so a bad value is `undefined`, never an exception.
    if (typeof gpa !== 'bigint') throw new TypeError(`GuestAddressSpace: gpa must be a bigint, got ${describeValue(gpa)}`);
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
    if (!(data instanceof Uint8Array)) throw new TypeError(`GuestAddressSpace.writeBytes: data must be a Uint8Array, got ${describeValue(data)}`);
    const r = this.resolve(gpa, data.length);
    if (!r || r.readonly) return false;
    r.writeBytes(gpa, data);
    return true;
  }
}
