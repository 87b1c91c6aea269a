/**
 * The memory slots of one emulated VM, checked in two layers like the KVM backend's:
 *
 * 1. The TypeScript wrapper's checks, identical to lib/backend/kvm/vm.ts (types.ts: "Overlaps,
 *    reused slots and misaligned ranges are rejected with RangeError before reaching the kernel"):
 *    wrong types → TypeError; slot outside [0, KVM_CAP_NR_MEMSLOTS), size not a non-zero multiple
 *    of 4 KiB, misaligned or overflowing address, a slot in use, an overlap → RangeError naming it.
 * 2. Behind them, the kernel's own rules of KVM_SET_USER_MEMORY_REGION (Documentation/virt/kvm/
 *    api.rst §4.35; virt/kvm/kvm_main.c __kvm_set_memory_region and arch/riscv/kvm/mmu.c
 *    kvm_arch_prepare_memory_region in Linux 6.12), as KvmError — what a caller bypassing layer 1
 *    would meet, and what remains reachable after it:
 *   - size or guest address not 4 KiB aligned, slot id ≥ KVM_USER_MEM_SLOTS, address overflow → EINVAL;
 *   - a slot that already exists → EINVAL (each call maps fresh memory, so userspace_addr changes,
 *     which KVM refuses for an existing slot);
 *   - overlap with another slot → EEXIST;
 *   - beyond the G-stage address space (Sv48x4, 50 bits) → EFAULT;
 *   - memory that cannot be allocated → ENOMEM.
 * Every slot is also a RamRegion for the harts (cpu/contract.ts); dirty logging is a bitmap the
 * CPU sets on guest stores, read and cleared by KVM_GET_DIRTY_LOG.
 *
 * Slot memory comes from the VM's arena (cpu/arena.ts) when one is given and has room, so compiled
 * WebAssembly blocks can address it; else from a plain ArrayBuffer (then compiled code leaves
 * those pages to the interpreter). A deleted slot's range goes back to the arena's free list.
 */
import type { GuestMemory, MemoryRegionOptions } from '../types.js';
import type { RamRegion } from './cpu/contract.js';
import { ArrayBufferGuestMemory } from '../guest-memory.js';
import type { Arena } from './cpu/arena.js';
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

/** Layer 1: a slot number in [0, KVM_CAP_NR_MEMSLOTS). */
export function checkSlotNumber(slot: unknown): number {
  if (typeof slot !== 'number') throw new TypeError(`slot must be a number, got ${typeof slot}`);
  if (!Number.isInteger(slot) || slot < 0 || slot >= EMULATOR_MAX_MEMSLOTS) {
    throw new RangeError(`slot must be an integer in [0, ${EMULATOR_MAX_MEMSLOTS}), got ${slot}`);
  }
  return slot;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

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
  readonly #arena: Arena | null;

  constructor(arena: Arena | null = null) {
    this.#arena = arena;
  }

  /** Validates like KVM, allocates zeroed memory, installs the slot. */
  add(options: MemoryRegionOptions): GuestMemory {
    if (typeof options !== 'object' || options === null) throw new TypeError('memory region options must be an object');
    const slot = checkSlotNumber(options.slot);
    const gpa = checkGpa(options.guestPhysAddr);
    const size = options.size;
    if (typeof size !== 'number') throw new TypeError(`size must be a number, got ${typeof size}`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0) {
      throw new RangeError(`size must be a non-zero multiple of ${PAGE}, got ${size}`);
    }
    if (gpa % BigInt(PAGE) !== 0n) throw new RangeError(`guestPhysAddr ${hex(gpa)} is not ${PAGE}-byte aligned`);
    if (gpa + BigInt(size) > U64_MAX + 1n) throw new RangeError(`region ${hex(gpa)} + ${size} overflows the guest physical address space`);
    const readonly = checkFlag(options.readonly, 'readonly');
    const logDirty = checkFlag(options.logDirty, 'logDirty');
    if (this.#slots.has(slot)) throw new RangeError(`slot ${slot} is already in use; delete it first`);
    for (const { memory: m } of this.#slots.values()) {
      const mEnd = m.guestPhysAddr + BigInt(m.size);
      if (gpa < mEnd && m.guestPhysAddr < gpa + BigInt(size)) {
        throw new RangeError(`region [${hex(gpa)}, ${hex(gpa + BigInt(size))}) overlaps slot ${m.slot} [${hex(m.guestPhysAddr)}, ${hex(mEnd)})`);
      }
    }
    return this.kernelSet(slot, gpa, size, readonly, logDirty);
  }

  /** Layer 2: __kvm_set_memory_region + kvm_arch_prepare_memory_region (exported for tests of the
   * kernel rules; VMs reach it through add()). */
  kernelSet(slot: number, gpa: bigint, size: number, readonly: boolean, logDirty: boolean): GuestMemory {
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

    let buffer: ArrayBuffer | SharedArrayBuffer;
    const arenaAddr = this.#arena === null ? -1 : this.#arena.alloc(size);
    let offset = 0;
    if (arenaAddr > 0 && this.#arena !== null) {
      buffer = this.#arena.buffer;
      offset = arenaAddr;
    } else {
      try {
        buffer = new ArrayBuffer(size);
      } catch {
        throw kvmErrno(ERRNO.ENOMEM, SET_REGION, `${detail}: cannot allocate ${size} bytes`, 'mmap');
      }
    }
    const memory = new ArrayBufferGuestMemory(slot, gpa, size, readonly, buffer, offset);
    const region: RamRegion = {
      base: Number(gpa),
      size,
      bytes: new Uint8Array(buffer, offset, size),
      view: new DataView(buffer, offset, size),
      readonly,
      dirty: logDirty ? new Uint8Array(dirtyBitmapBytes(size)) : null,
      arena: arenaAddr > 0 ? this.#arena : null,
      arenaAddr: arenaAddr > 0 ? arenaAddr : 0,
    };
    this.#slots.set(slot, { memory, region });
    return memory;
  }

  /** KVM_SET_USER_MEMORY_REGION with size 0 (the kernel says EINVAL for a slot that does not
   * exist; the wrapper says RangeError first). */
  delete(slotArg: number): void {
    const slot = checkSlotNumber(slotArg);
    const entry = this.#slots.get(slot);
    if (!entry) throw new RangeError(`slot ${slot} is not in use`);
    this.#slots.delete(slot);
    entry.memory.invalidate();
    const { arena, arenaAddr } = entry.region;
    if (arena && arenaAddr) arena.free(arenaAddr, entry.region.size);
  }

  /** By slot number, as the KVM backend lists them. */
  list(): GuestMemory[] {
    return [...this.#slots.values()].map((s) => s.memory).sort((a, b) => a.slot - b.slot);
  }

  /** The RAM map for the harts, sorted by base. */
  ramRegions(): RamRegion[] {
    return [...this.#slots.values()].map((s) => s.region).sort((a, b) => a.base - b.base);
  }

  /** KVM_GET_DIRTY_LOG: one bit per page, exactly ceil(pages / 8) bytes (as the KVM backend
   * returns it); the log is cleared. A slot not in use or created without logDirty is a RangeError
   * in the wrapper (the kernel would say ENOENT). */
  dirtyLog(slotArg: number): Uint8Array {
    const slot = checkSlotNumber(slotArg);
    const entry = this.#slots.get(slot);
    if (!entry) throw new RangeError(`slot ${slot} is not in use`);
    const bitmap = entry.region.dirty;
    if (!bitmap) throw new RangeError(`slot ${slot} was created without logDirty`);
    const copy = bitmap.slice(0, Math.ceil(entry.region.size / PAGE / 8));
    bitmap.fill(0);
    return copy;
  }

  /** Removes every slot and invalidates its GuestMemory (VM close). */
  clear(): void {
    for (const entry of this.#slots.values()) entry.memory.invalidate();
    this.#slots.clear();
  }
}
