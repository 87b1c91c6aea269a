/**
 * The memory slots of one emulated VM, with the rules of KVM_SET_USER_MEMORY_REGION
 * (Documentation/virt/kvm/api.rst §4.35; virt/kvm/kvm_main.c __kvm_set_memory_region and
 * arch/riscv/kvm/mmu.c kvm_arch_prepare_memory_region in Linux 6.12):
 *   - malformed arguments (wrong types, negative or fractional numbers) → TypeError/RangeError;
 *   - size or guest address not 4 KiB aligned, slot id ≥ KVM_USER_MEM_SLOTS, address overflow → EINVAL;
 *   - a slot that already exists → EINVAL (each call maps fresh memory, so userspace_addr changes,
 *     which KVM refuses for an existing slot);
 *   - overlap with another slot → EEXIST;
 *   - beyond the G-stage address space (Sv48x4, 50 bits) → EFAULT;
 *   - memory that cannot be allocated → ENOMEM.
 * Every slot is also a RamRegion for the harts (cpu/contract.ts); dirty logging is a bitmap the
 * CPU sets on guest stores, read and cleared by KVM_GET_DIRTY_LOG.
 */
import type { GuestMemory, MemoryRegionOptions } from '../types.js';
import type { RamRegion } from './cpu/contract.js';
import { ArrayBufferGuestMemory } from '../guest-memory.js';
import { kvmErrno } from '../../errors.js';
import { ERRNO, KVM_DIRTY_LOG_PAGE_SIZE } from '../../abi/kvm.js';
import { EMULATOR_GPA_BITS, EMULATOR_MAX_MEMSLOTS } from './capabilities.js';

const PAGE = KVM_DIRTY_LOG_PAGE_SIZE;
const U64_MAX = (1n << 64n) - 1n;
const SET_REGION = 'KVM_SET_USER_MEMORY_REGION';

interface Slot {
  memory: ArrayBufferGuestMemory;
  region: RamRegion;
}

export function checkSlotNumber(slot: unknown, what = 'slot'): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot > 0xffff_ffff) {
    throw new RangeError(`${what} must be an integer in 0..2^32-1, got ${String(slot)}`);
  }
  return slot;
}

function checkGpa(gpa: unknown): bigint {
  if (typeof gpa === 'number') {
    if (!Number.isSafeInteger(gpa) || gpa < 0) throw new RangeError(`guestPhysAddr must be a non-negative integer, got ${gpa}`);
    return BigInt(gpa);
  }
  if (typeof gpa === 'bigint') {
    if (gpa < 0n || gpa > U64_MAX) throw new RangeError(`guestPhysAddr must fit a u64, got ${gpa}`);
    return gpa;
  }
  throw new TypeError(`guestPhysAddr must be a number or bigint, got ${typeof gpa}`);
}

function checkFlag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** Bytes of a KVM dirty bitmap: one bit per page, rounded up to whole longs (kvm_dirty_bitmap_bytes). */
export function dirtyBitmapBytes(size: number): number {
  const pages = Math.ceil(size / PAGE);
  return Math.ceil(pages / 64) * 8;
}

export class MemorySlots {
  readonly #slots = new Map<number, Slot>();

  /** Validates like KVM, allocates zeroed memory, installs the slot. */
  add(options: MemoryRegionOptions): GuestMemory {
    if (typeof options !== 'object' || options === null) throw new TypeError('memory region options must be an object');
    const slot = checkSlotNumber(options.slot);
    const gpa = checkGpa(options.guestPhysAddr);
    const size = options.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`size must be a positive integer, got ${String(size)}`);
    }
    const readonly = checkFlag(options.readonly, 'readonly');
    const logDirty = checkFlag(options.logDirty, 'logDirty');
    const detail = `slot ${slot}`;

    if (size % PAGE !== 0) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `${detail}: size ${size} is not a multiple of 4 KiB`);
    if (gpa % BigInt(PAGE) !== 0n) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `${detail}: guest address 0x${gpa.toString(16)} is not 4 KiB aligned`);
    if (slot >= EMULATOR_MAX_MEMSLOTS) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `${detail}: slot id ≥ ${EMULATOR_MAX_MEMSLOTS}`);
    const end = gpa + BigInt(size);
    if (end > U64_MAX + 1n) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `${detail}: address range overflows`);
    if (this.#slots.has(slot)) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `${detail} already exists (delete it first)`);
    for (const other of this.#slots.values()) {
      const base = other.memory.guestPhysAddr;
      if (gpa < base + BigInt(other.memory.size) && base < end) {
        throw kvmErrno(ERRNO.EEXIST, SET_REGION, `${detail} overlaps slot ${other.memory.slot}`);
      }
    }
    if (end / BigInt(PAGE) >= (1n << BigInt(EMULATOR_GPA_BITS)) / BigInt(PAGE)) {
      throw kvmErrno(ERRNO.EFAULT, SET_REGION, `${detail} ends beyond the ${EMULATOR_GPA_BITS}-bit guest physical address space`);
    }

    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(size);
    } catch {
      throw kvmErrno(ERRNO.ENOMEM, SET_REGION, `${detail}: cannot allocate ${size} bytes`, 'mmap');
    }
    const memory = new ArrayBufferGuestMemory(slot, gpa, size, readonly, buffer);
    const region: RamRegion = {
      base: Number(gpa),
      size,
      bytes: new Uint8Array(buffer),
      view: new DataView(buffer),
      readonly,
      dirty: logDirty ? new Uint8Array(dirtyBitmapBytes(size)) : null,
    };
    this.#slots.set(slot, { memory, region });
    return memory;
  }

  /** KVM_SET_USER_MEMORY_REGION with size 0: EINVAL for a slot that does not exist. */
  delete(slotArg: number): void {
    const slot = checkSlotNumber(slotArg);
    const entry = this.#slots.get(slot);
    if (!entry) throw kvmErrno(ERRNO.EINVAL, SET_REGION, `slot ${slot}: no such slot to delete`);
    this.#slots.delete(slot);
    entry.memory.invalidate();
  }

  list(): GuestMemory[] {
    return [...this.#slots.values()].sort((a, b) => a.region.base - b.region.base).map((s) => s.memory);
  }

  /** The RAM map for the harts, sorted by base. */
  ramRegions(): RamRegion[] {
    return [...this.#slots.values()].map((s) => s.region).sort((a, b) => a.base - b.base);
  }

  /** KVM_GET_DIRTY_LOG: EINVAL for an impossible slot id, ENOENT for a slot without a log. */
  dirtyLog(slotArg: number): Uint8Array {
    const slot = checkSlotNumber(slotArg);
    if (slot >= EMULATOR_MAX_MEMSLOTS) throw kvmErrno(ERRNO.EINVAL, 'KVM_GET_DIRTY_LOG', `slot ${slot}`);
    const entry = this.#slots.get(slot);
    const bitmap = entry?.region.dirty;
    if (!bitmap) throw kvmErrno(ERRNO.ENOENT, 'KVM_GET_DIRTY_LOG', `slot ${slot} ${entry ? 'has no dirty logging' : 'does not exist'}`);
    const copy = bitmap.slice();
    bitmap.fill(0);
    return copy;
  }

  /** Removes every slot and invalidates its GuestMemory (VM close). */
  clear(): void {
    for (const entry of this.#slots.values()) entry.memory.invalidate();
    this.#slots.clear();
  }
}
