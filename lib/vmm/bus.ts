/**
 * The MMIO bus: guest physical ranges → devices, with checked ranges (as rust-vmm's vm-device bus):
 * a zero-length range, one that wraps past 2^64, or one that overlaps an existing range is refused
 * with RangeError naming both. A device sees offsets from its own base, never absolute addresses.
 *
 * An access must fall entirely inside one device. Anything else is "unmapped": a load returns 0 and
 * a store is dropped, as on QEMU's virt board where unassigned accesses read as zero; both are
 * counted so a test or the CLI can report them. The guest cannot make the bus throw.
 */
import { checkMethods, describeValue } from '../option-checks.js';

export type AccessSize = 1 | 2 | 4 | 8;

/** A device register model. */
export interface MmioDevice {
  /** Value of the `size`-byte register at `offset` (only the low `size` bytes are used). */
  read(offset: number, size: AccessSize): number | bigint;
  write(offset: number, size: AccessSize, value: bigint): void;
}

export interface BusRange {
  readonly name: string;
  readonly base: bigint;
  readonly size: bigint;
  readonly device: MmioDevice;
}

export interface BusStats {
  unmappedReads: number;
  unmappedWrites: number;
  /** Address of the last unmapped access, for diagnostics. */
  lastUnmapped?: bigint;
}

const U64_LIMIT = 1n << 64n;
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** A guest physical address or length given as a number or bigint: TypeError for any other type,
 * RangeError for a number that is not a safe non-negative integer (NaN, 1.5, -1: BigInt() would
 * throw its own message or wrap) and for a value outside u64. */
function u64Argument(name: string, what: string, v: unknown): bigint {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > Number.MAX_SAFE_INTEGER) throw new RangeError(`${name}: MMIO ${what} ${v} is above 2^53 - 1, where a number may not be the value meant: pass a bigint`);
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name}: MMIO ${what} must be a non-negative integer, got ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v >= U64_LIMIT) throw new RangeError(`${name}: MMIO ${what} must be a u64, got ${v}n`);
    return v;
  }
  throw new TypeError(`${name}: MMIO ${what} must be a number or bigint, got ${describeValue(v)}`);
}

/** The error for bad access arguments. The backends always pass a bigint address and a 1/2/4/8-byte
 * width (an MMIO exit's len, api.rst §5 KVM_EXIT_MMIO; RISC-V loads and stores are at most 8 bytes
 * wide for RV64 without Q), so the checks in read()/write() only catch a script calling the bus
 * directly with a number address (a BigInt mixing error) or another width. They are inline and the
 * message is built here, off the hot path: measured equal to no check (2M read+write pairs). */
function accessError(what: 'read' | 'write', address: unknown, size: unknown, value?: unknown): Error {
  if (typeof address !== 'bigint') return new TypeError(`MmioBus.${what}: address must be a bigint, got ${describeValue(address)}`);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return new RangeError(`MmioBus.${what}: size must be 1, 2, 4 or 8 bytes, got ${describeValue(size)}`);
  return new TypeError(`MmioBus.${what}: value must be a bigint, got ${describeValue(value)}`);
}

export class MmioBus {
  /** Sorted by base, non-overlapping. */
  private readonly ranges: BusRange[] = [];
  readonly stats: BusStats = { unmappedReads: 0, unmappedWrites: 0 };

  /** Maps `device` at [base, base + size). Host-supplied, so checked: a name that is not a
   * non-empty string or is already mapped, a base or size that is not a u64 (number or bigint),
   * and a device without read()/write() are refused before anything changes. */
  map(name: string, base: number | bigint, size: number | bigint, device: MmioDevice): BusRange {
    if (typeof name !== 'string') throw new TypeError(`MmioBus.map: name must be a string, got ${describeValue(name)}`);
    if (name === '') throw new RangeError(`MmioBus.map: name must not be empty`);
    const b = u64Argument(name, 'base', base);
    const s = u64Argument(name, 'size', size);
    checkMethods('MmioBus.map', `${name}: device`, device, ['read', 'write'], false);
    if (s <= 0n) throw new RangeError(`${name}: MMIO range size ${s} must be positive`);
    if (b + s > U64_LIMIT) throw new RangeError(`${name}: MMIO range [${hex(b)}, +${hex(s)}) wraps past 2^64`);
    if (this.ranges.some((r) => r.name === name)) throw new RangeError(`${name}: an MMIO range of that name is already mapped`);
    for (const r of this.ranges) {
      if (b < r.base + r.size && r.base < b + s) {
        throw new RangeError(`${name}: MMIO range [${hex(b)}, ${hex(b + s)}) overlaps ${r.name} [${hex(r.base)}, ${hex(r.base + r.size)})`);
      }
    }
    const range: BusRange = { name, base: b, size: s, device };
    const i = this.ranges.findIndex((r) => r.base > b);
    if (i < 0) this.ranges.push(range);
    else this.ranges.splice(i, 0, range);
    return range;
  }

  unmap(name: string): boolean {
    const i = this.ranges.findIndex((r) => r.name === name);
    if (i < 0) return false;
    this.ranges.splice(i, 1);
    return true;
  }

  list(): readonly BusRange[] {
    return this.ranges;
  }

  /** The device holding all of [address, address + length), with the offset of address in it. */
  find(address: bigint, length: number): { range: BusRange; offset: number } | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (address < r.base) hi = mid - 1;
      else if (address >= r.base + r.size) lo = mid + 1;
      else {
        if (address + BigInt(length) > r.base + r.size) return undefined; // straddles the end
        return { range: r, offset: Number(address - r.base) };
      }
    }
    return undefined;
  }

  /** A load: the device's value truncated to `size` bytes, or 0 when unmapped. */
  read(address: bigint, size: AccessSize): bigint {
    if (typeof address !== 'bigint' || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) throw accessError('read', address, size);
    const hit = this.find(address, size);
    if (!hit) {
      this.stats.unmappedReads++;
      this.stats.lastUnmapped = address;
      return 0n;
    }
    return BigInt.asUintN(size * 8, BigInt(hit.range.device.read(hit.offset, size)));
  }

  /** A store of the low `size` bytes of value; dropped when unmapped. */
  write(address: bigint, size: AccessSize, value: bigint): void {
    if (typeof address !== 'bigint' || (size !== 1 && size !== 2 && size !== 4 && size !== 8) || typeof value !== 'bigint') throw accessError('write', address, size, value);
    const hit = this.find(address, size);
    if (!hit) {
      this.stats.unmappedWrites++;
      this.stats.lastUnmapped = address;
      return;
    }
    hit.range.device.write(hit.offset, size, BigInt.asUintN(size * 8, value));
  }
}

/** Little-endian bytes of an MMIO exit → value. */
export function leBytesToBigInt(data: Uint8Array, length: number): bigint {
  let v = 0n;
  for (let i = Math.min(length, data.length) - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  return v;
}
