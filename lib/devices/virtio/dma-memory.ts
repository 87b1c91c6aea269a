/**
 * The view of guest RAM a virtio device may touch. GuestMemory (lib/backend/types.ts) satisfies it;
 * tests pass a fake over an ArrayBuffer. Every access here is checked with contains() first, so a
 * guest address that is out of RAM becomes a VirtqueueError (→ DEVICE_NEEDS_RESET), never an
 * exception from the memory object or an out-of-bounds read.
 */

export interface DmaMemory {
  contains(gpa: bigint, length: number): boolean;
  readBytes(gpa: bigint, length: number): Uint8Array;
  writeBytes(gpa: bigint, data: Uint8Array): void;
}

/** A guest-caused virtqueue or descriptor error: the device must be reset (virtio v1.2 §2.1.2). */
export class VirtqueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtqueueError';
  }
}

export function checkedRead(mem: DmaMemory, gpa: bigint, length: number, what: string): Uint8Array {
  if (!mem.contains(gpa, length)) throw new VirtqueueError(`${what} [0x${gpa.toString(16)}, +${length}) is outside guest RAM`);
  return mem.readBytes(gpa, length);
}

export function checkedWrite(mem: DmaMemory, gpa: bigint, data: Uint8Array, what: string): void {
  if (!mem.contains(gpa, data.length)) throw new VirtqueueError(`${what} [0x${gpa.toString(16)}, +${data.length}) is outside guest RAM`);
  mem.writeBytes(gpa, data);
}

export function readLe16(mem: DmaMemory, gpa: bigint, what: string): number {
  const b = checkedRead(mem, gpa, 2, what);
  return b[0]! | (b[1]! << 8);
}

export function writeLe16(mem: DmaMemory, gpa: bigint, value: number, what: string): void {
  checkedWrite(mem, gpa, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff), what);
}

export function writeLe32Pair(mem: DmaMemory, gpa: bigint, a: number, b: number, what: string): void {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, a >>> 0, true);
  dv.setUint32(4, b >>> 0, true);
  checkedWrite(mem, gpa, out, what);
}
