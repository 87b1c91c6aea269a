/**
 * GuestMemory over an ArrayBuffer: the backend-independent view of one memory slot's RAM.
 *
 * The KVM backend hands in an external ArrayBuffer over the anonymous mmap that backs the slot (the
 * addon's finalizer unmaps it, so the buffer stays valid even after the VM is gone); the emulator
 * backend hands in its VM arena's SharedArrayBuffer (a WebAssembly memory, see
 * emulator/cpu/arena.ts) with the slot's byte offset in it, or a plain ArrayBuffer. Either way this class only does bounds checking and
 * little-endian access (RISC-V is little-endian for data, unprivileged spec §1.5 "Memory").
 *
 * A read-only slot (KVM_MEM_READONLY, api.rst §4.35) is read-only for the *guest* only: user space
 * writes it freely to load firmware or ROM contents, so the host accessors here do not refuse it.
 */
import type { GuestMemory } from './types.js';
import { KvmStateError } from '../errors.js';

const U64_MAX = (1n << 64n) - 1n;

export class ArrayBufferGuestMemory implements GuestMemory {
  readonly slot: number;
  readonly guestPhysAddr: bigint;
  readonly size: number;
  readonly readonly: boolean;
  #view: DataView;
  #bytes: Uint8Array;
  #closed = false;
  /** Base as a number when it is a safe integer (the usual case), for a fast offset path. */
  #baseNum: number;

  constructor(slot: number, gpa: bigint, size: number, readonly: boolean, buffer: ArrayBuffer | SharedArrayBuffer, byteOffset = 0) {
    if (!Number.isInteger(slot) || slot < 0) throw new RangeError(`slot must be a non-negative integer, got ${slot}`);
    if (typeof gpa !== 'bigint' || gpa < 0n || gpa > U64_MAX) throw new RangeError(`gpa must be a u64 bigint, got ${String(gpa)}`);
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`size must be a positive integer, got ${size}`);
    if (!(buffer instanceof ArrayBuffer) && !(buffer instanceof SharedArrayBuffer)) throw new TypeError('buffer must be an ArrayBuffer or SharedArrayBuffer');
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) throw new RangeError(`byteOffset must be a non-negative integer, got ${byteOffset}`);
    if (buffer.byteLength - byteOffset < size) throw new RangeError(`buffer (${buffer.byteLength} bytes from offset ${byteOffset}) is smaller than size ${size}`);
    if (gpa + BigInt(size) - 1n > U64_MAX) throw new RangeError(`region 0x${gpa.toString(16)} + ${size} overflows the u64 address space`);
    this.slot = slot;
    this.guestPhysAddr = gpa;
    this.size = size;
    this.readonly = !!readonly;
    this.#view = new DataView(buffer, byteOffset, size);
    this.#bytes = new Uint8Array(buffer, byteOffset, size);
    this.#baseNum = gpa <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(gpa) : -1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the owning backend when the slot is deleted or the VM closed. Idempotent. */
  invalidate(): void {
    this.#closed = true;
  }

  contains(gpa: number | bigint, length = 1): boolean {
    if (!Number.isSafeInteger(length) || length < 0) return false;
    const a = toBigAddr(gpa);
    if (a === undefined) return false;
    return a >= this.guestPhysAddr && a + BigInt(length) <= this.guestPhysAddr + BigInt(this.size);
  }

  read8(gpa: number | bigint): number { return this.#view.getUint8(this.#offset(gpa, 1)); }
  read16(gpa: number | bigint): number { return this.#view.getUint16(this.#offset(gpa, 2), true); }
  read32(gpa: number | bigint): number { return this.#view.getUint32(this.#offset(gpa, 4), true); }
  read64(gpa: number | bigint): bigint { return this.#view.getBigUint64(this.#offset(gpa, 8), true); }

  write8(gpa: number | bigint, value: number): void {
    this.#view.setUint8(this.#offset(gpa, 1), checkInt(value, 8));
  }
  write16(gpa: number | bigint, value: number): void {
    this.#view.setUint16(this.#offset(gpa, 2), checkInt(value, 16), true);
  }
  write32(gpa: number | bigint, value: number): void {
    this.#view.setUint32(this.#offset(gpa, 4), checkInt(value, 32), true);
  }
  write64(gpa: number | bigint, value: bigint): void {
    if (typeof value !== 'bigint') throw new TypeError(`value must be a bigint, got ${typeof value}`);
    if (value < -(1n << 63n) || value > U64_MAX) throw new RangeError(`value ${value} does not fit 64 bits`);
    this.#view.setBigUint64(this.#offset(gpa, 8), BigInt.asUintN(64, value), true);
  }

  readBytes(gpa: number | bigint, length: number): Uint8Array {
    checkLength(length);
    const off = this.#offset(gpa, length);
    return this.#bytes.slice(off, off + length);
  }

  writeBytes(gpa: number | bigint, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    const off = this.#offset(gpa, data.length);
    this.#bytes.set(data, off);
  }

  fill(gpa: number | bigint, length: number, value: number): void {
    checkLength(length);
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`fill value must be a byte (0..255), got ${value}`);
    const off = this.#offset(gpa, length);
    this.#bytes.fill(value, off, off + length);
  }

  /** Byte offset of [gpa, gpa+length) inside the slot; throws if closed or out of range. */
  #offset(gpa: number | bigint, length: number): number {
    if (this.#closed) {
      throw new KvmStateError('ERR_KVM_CLOSED', `memory slot ${this.slot} was deleted or its VM closed`);
    }
    if (typeof gpa === 'number' && this.#baseNum >= 0) {
      if (!Number.isSafeInteger(gpa) || gpa < 0) throw new RangeError(`guest address must be a non-negative integer, got ${gpa}`);
      const off = gpa - this.#baseNum;
      if (off < 0 || off + length > this.size) throw this.#outOfRange(BigInt(gpa), length);
      return off;
    }
    const a = toBigAddr(gpa);
    if (a === undefined) {
      if (typeof gpa !== 'number' && typeof gpa !== 'bigint') throw new TypeError(`guest address must be a number or bigint, got ${typeof gpa}`);
      throw new RangeError(`guest address must be a non-negative integer, got ${String(gpa)}`);
    }
    const off = a - this.guestPhysAddr;
    if (off < 0n || off + BigInt(length) > BigInt(this.size)) throw this.#outOfRange(a, length);
    return Number(off);
  }

  #outOfRange(gpa: bigint, length: number): RangeError {
    const end = this.guestPhysAddr + BigInt(this.size);
    return new RangeError(
      `guest address 0x${gpa.toString(16)} (+${length}) is outside slot ${this.slot} ` +
        `[0x${this.guestPhysAddr.toString(16)}, 0x${end.toString(16)})`,
    );
  }
}

function toBigAddr(gpa: number | bigint): bigint | undefined {
  if (typeof gpa === 'bigint') return gpa >= 0n && gpa <= U64_MAX ? gpa : undefined;
  if (typeof gpa === 'number' && Number.isSafeInteger(gpa) && gpa >= 0) return BigInt(gpa);
  return undefined;
}

/** Accepts signed or unsigned integers of `bits` width, returns the unsigned bit pattern. */
function checkInt(value: number, bits: 8 | 16 | 32): number {
  if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${typeof value}`);
  const max = 2 ** bits;
  if (!Number.isInteger(value) || value < -(max / 2) || value >= max) {
    throw new RangeError(`value ${value} does not fit ${bits} bits`);
  }
  return value < 0 ? value + max : value;
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
}
