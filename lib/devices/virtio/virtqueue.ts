/**
 * The device side of a split virtqueue (virtio v1.2 §2.7): reads descriptor chains the driver made
 * available and returns them through the used ring.
 *
 * Layout (§2.7, alignment table in §2.7.1 / §4.2.2): descriptor table, 16 bytes per entry, 16-byte
 * aligned; available ring {flags u16, idx u16, ring[size] u16}, 2-byte aligned; used ring
 * {flags u16, idx u16, ring[size] {id u32, len u32}}, 4-byte aligned. VIRTIO_F_EVENT_IDX is not
 * offered, so the trailing used_event/avail_event fields are not used.
 *
 * Everything the guest wrote is checked: the queue size is a power of two within the maximum, the
 * rings are aligned and inside RAM, avail.idx moves by at most the queue size, heads and `next`
 * indices are inside the table, a chain visits at most `size` descriptors (so a loop ends as an
 * error, not a hang), every buffer lies inside RAM, device-writable buffers follow the readable
 * ones (§2.7.4.2). INDIRECT (§2.7.5.3) is followed only when VIRTIO_F_INDIRECT_DESC was negotiated
 * (§2.7.5.3.1: the driver MUST NOT set it otherwise), never nested, never with NEXT, and an
 * indirect table is bounded by its own length. Violations throw VirtqueueError, which the
 * transport turns into DEVICE_NEEDS_RESET.
 */
import { checkedRead, readLe16, VirtqueueError, writeLe16, writeLe32Pair, type DmaMemory } from './dma-memory.js';
import { describeValue } from '../../option-checks.js';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_MAX_SIZE } from './spec.js';

const DESC_SIZE = 16;
/** Largest indirect table accepted: the ring's own maximum (§2.7: 32768), so one chain costs the
 * device at most 512 KiB of descriptor reads. */
const MAX_INDIRECT_ENTRIES = VIRTQ_MAX_SIZE;

interface ChainAccumulator {
  readable: Segment[];
  writable: Segment[];
  readableLength: number;
  writableLength: number;
}

/** One guest buffer of a chain. */
export interface Segment {
  readonly addr: bigint;
  readonly len: number;
}

/** A descriptor chain: the readable (driver → device) buffers, then the writable ones. */
export interface DescriptorChain {
  readonly head: number;
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  readonly readableLength: number;
  readonly writableLength: number;
}

export interface VirtqueueState {
  size: number;
  ready: boolean;
  descAddr: bigint;
  driverAddr: bigint;
  deviceAddr: bigint;
  /** Next avail ring entry the device will take (free-running u16). */
  lastAvailIdx: number;
  /** Next used ring entry the device will fill (free-running u16). */
  usedIdx: number;
}

export class SplitVirtqueue {
  readonly maxSize: number;
  size: number;
  ready = false;
  descAddr = 0n;
  driverAddr = 0n;
  deviceAddr = 0n;
  lastAvailIdx = 0;
  usedIdx = 0;
  /** Set by the transport when VIRTIO_F_INDIRECT_DESC was negotiated. */
  indirectAllowed = false;

  constructor(maxSize: number) {
    // A device's queueMaxSizes entry: a wrong type is the device author's TypeError, not a range.
    if (typeof maxSize !== 'number') throw new TypeError(`virtqueue maximum size must be a number, got ${describeValue(maxSize)}`);
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > VIRTQ_MAX_SIZE || (maxSize & (maxSize - 1)) !== 0) {
      throw new RangeError(`virtqueue maximum size ${maxSize} is not a power of two up to ${VIRTQ_MAX_SIZE}`);
    }
    this.maxSize = maxSize;
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0n;
    this.lastAvailIdx = this.usedIdx = 0;
    this.indirectAllowed = false;
  }

  /** Checks the driver's configuration when it sets QueueReady (§2.7: power-of-two size; §2.7.1
   * alignment; and the three areas must be guest RAM). Throws VirtqueueError. */
  validate(mem: DmaMemory): void {
    const n = this.size;
    if (!Number.isInteger(n) || n < 1 || n > this.maxSize || (n & (n - 1)) !== 0) {
      throw new VirtqueueError(`queue size ${n} is not a power of two in 1..${this.maxSize}`);
    }
    const area = (name: string, addr: bigint, align: bigint, length: number): void => {
      if (addr % align !== 0n) throw new VirtqueueError(`${name} 0x${addr.toString(16)} is not ${align}-byte aligned`);
      if (!mem.contains(addr, length)) throw new VirtqueueError(`${name} [0x${addr.toString(16)}, +${length}) is outside guest RAM`);
    };
    area('descriptor table', this.descAddr, 16n, DESC_SIZE * n);
    area('available ring', this.driverAddr, 2n, 4 + 2 * n);
    area('used ring', this.deviceAddr, 4n, 4 + 8 * n);
  }

  /** Takes the next available chain, or undefined when the driver has made none available. */
  pop(mem: DmaMemory): DescriptorChain | undefined {
    const availIdx = readLe16(mem, this.driverAddr + 2n, 'avail.idx');
    const outstanding = (availIdx - this.lastAvailIdx) & 0xffff;
    if (outstanding === 0) return undefined;
    if (outstanding > this.size) throw new VirtqueueError(`avail.idx ${availIdx} is ${outstanding} entries ahead of the device, more than the queue size ${this.size}`);
    const slot = this.lastAvailIdx % this.size;
    const head = readLe16(mem, this.driverAddr + 4n + BigInt(2 * slot), `avail.ring[${slot}]`);
    const chain = this.walk(mem, head);
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    return chain;
  }

  /** Follows a chain from `head`, checking every descriptor (see the file comment). */
  private walk(mem: DmaMemory, head: number): DescriptorChain {
    const acc: ChainAccumulator = { readable: [], writable: [], readableLength: 0, writableLength: 0 };
    // The ring's own table: `size` entries in guest RAM, read one descriptor at a time.
    const ringTable = (i: number): Uint8Array => checkedRead(mem, this.descAddr + BigInt(DESC_SIZE * i), DESC_SIZE, `descriptor ${i}`);
    const indirect = this.walkTable(mem, head, this.size, ringTable, acc, 'descriptor', true);
    if (indirect) {
      // §2.7.5.3: an indirect table of len/16 descriptors, chained from its entry 0. Its length
      // bound (as the queue size bounds the ring) makes a loop inside it end as an error too.
      const n = indirect.len / DESC_SIZE;
      const table = checkedRead(mem, indirect.addr, indirect.len, 'indirect table');
      this.walkTable(mem, 0, n, (i) => table.subarray(i * DESC_SIZE, (i + 1) * DESC_SIZE), acc, 'indirect descriptor', false);
    }
    return { head, ...acc };
  }

  /**
   * Walks one descriptor table from `start`, adding buffers to `acc`. Returns the indirect table
   * descriptor that ended the walk, if any (only allowed when `allowIndirect`).
   */
  private walkTable(mem: DmaMemory, start: number, entries: number, entry: (i: number) => Uint8Array,
    acc: ChainAccumulator, what: string, allowIndirect: boolean): Segment | undefined {
    let index = start;
    for (let count = 0; ; count++) {
      if (count >= entries) throw new VirtqueueError(`${what} chain from ${start} is longer than its table of ${entries} (a loop)`);
      if (index >= entries) throw new VirtqueueError(`${what} index ${index} is outside the table of ${entries}`);
      const raw = entry(index);
      const dv = new DataView(raw.buffer, raw.byteOffset, DESC_SIZE);
      const addr = dv.getBigUint64(0, true);
      const len = dv.getUint32(8, true);
      const flags = dv.getUint16(12, true);
      const next = dv.getUint16(14, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!allowIndirect || !this.indirectAllowed) {
          throw new VirtqueueError(`${what} ${index} is INDIRECT, which ${this.indirectAllowed ? 'cannot nest (§2.7.5.3.1)' : 'was not negotiated'}`);
        }
        // §2.7.5.3.1: the driver MUST NOT set NEXT with INDIRECT; the table holds whole descriptors.
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError(`${what} ${index} sets both INDIRECT and NEXT`);
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > MAX_INDIRECT_ENTRIES) {
          throw new VirtqueueError(`${what} ${index} has an indirect table length ${len}, not 1..${MAX_INDIRECT_ENTRIES} descriptors`);
        }
        if (!mem.contains(addr, len)) throw new VirtqueueError(`indirect table [0x${addr.toString(16)}, +${len}) is outside guest RAM`);
        return { addr, len };
      }
      if (!mem.contains(addr, len)) throw new VirtqueueError(`${what} ${index} buffer [0x${addr.toString(16)}, +${len}) is outside guest RAM`);
      if (flags & VIRTQ_DESC_F_WRITE) {
        acc.writable.push({ addr, len });
        acc.writableLength += len;
      } else {
        if (acc.writable.length > 0) throw new VirtqueueError(`${what} ${index} is device-readable but follows a device-writable one`);
        acc.readable.push({ addr, len });
        acc.readableLength += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return undefined;
      index = next;
    }
  }

  /** Returns a chain to the driver with `written` bytes written into its writable buffers
   * (§2.7.8: the used element, then the used index). */
  push(mem: DmaMemory, chain: DescriptorChain, written: number): void {
    const len = Math.max(0, Math.min(written, chain.writableLength, 0xffff_ffff));
    const slot = this.usedIdx % this.size;
    writeLe32Pair(mem, this.deviceAddr + 4n + BigInt(8 * slot), chain.head, len, `used.ring[${slot}]`);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    writeLe16(mem, this.deviceAddr + 2n, this.usedIdx, 'used.idx');
  }

  /** Whether the driver wants a used-buffer notification (§2.7.10, no event idx). */
  wantsInterrupt(mem: DmaMemory): boolean {
    return (readLe16(mem, this.driverAddr, 'avail.flags') & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  state(): VirtqueueState {
    return {
      size: this.size, ready: this.ready, descAddr: this.descAddr, driverAddr: this.driverAddr,
      deviceAddr: this.deviceAddr, lastAvailIdx: this.lastAvailIdx, usedIdx: this.usedIdx,
    };
  }

  setState(s: VirtqueueState): void {
    const u16 = (name: string, v: number): number => {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`virtqueue snapshot: ${name} is not a u16`);
      return v;
    };
    const u64 = (name: string, v: bigint): bigint => {
      if (typeof v !== 'bigint' || v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`virtqueue snapshot: ${name} is not a u64`);
      return v;
    };
    // Any u32: QueueNum holds whatever the driver wrote until QueueReady validates it.
    if (!Number.isInteger(s.size) || s.size < 0 || s.size > 0xffff_ffff) throw new RangeError(`virtqueue snapshot: size ${s.size} is not a u32`);
    if (s.ready && (s.size < 1 || s.size > this.maxSize || (s.size & (s.size - 1)) !== 0)) {
      throw new RangeError(`virtqueue snapshot: a ready queue cannot have size ${s.size}`);
    }
    this.size = s.size;
    this.ready = Boolean(s.ready);
    this.descAddr = u64('descAddr', s.descAddr);
    this.driverAddr = u64('driverAddr', s.driverAddr);
    this.deviceAddr = u64('deviceAddr', s.deviceAddr);
    this.lastAvailIdx = u16('lastAvailIdx', s.lastAvailIdx);
    this.usedIdx = u16('usedIdx', s.usedIdx);
  }
}

/** Copies up to `max` bytes out of a chain's readable buffers (gather). */
export function gatherReadable(mem: DmaMemory, chain: DescriptorChain, max = chain.readableLength, skip = 0): Uint8Array {
  const total = Math.max(0, Math.min(max, chain.readableLength - skip));
  const out = new Uint8Array(total);
  let copied = 0;
  let toSkip = skip;
  for (const seg of chain.readable) {
    if (copied >= total) break;
    if (toSkip >= seg.len) { toSkip -= seg.len; continue; }
    const n = Math.min(seg.len - toSkip, total - copied);
    out.set(checkedRead(mem, seg.addr + BigInt(toSkip), n, 'readable buffer'), copied);
    copied += n;
    toSkip = 0;
  }
  return out;
}

/** The part [start, start + length) of a list of segments, as segments. */
export function sliceSegments(segments: readonly Segment[], start: number, length: number): Segment[] {
  const out: Segment[] = [];
  let skip = start;
  let left = length;
  for (const seg of segments) {
    if (left <= 0) break;
    if (skip >= seg.len) { skip -= seg.len; continue; }
    const n = Math.min(seg.len - skip, left);
    out.push({ addr: seg.addr + BigInt(skip), len: n });
    left -= n;
    skip = 0;
  }
  return out;
}
