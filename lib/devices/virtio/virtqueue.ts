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
 * ones (§2.7.4.2), and INDIRECT is refused because VIRTIO_F_INDIRECT_DESC is not offered
 * (§2.7.5.3.1: the driver MUST NOT set it then). Violations throw VirtqueueError, which the
 * transport turns into DEVICE_NEEDS_RESET.
 */
import { checkedRead, readLe16, VirtqueueError, writeLe16, writeLe32Pair, type DmaMemory } from './dma-memory.js';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_MAX_SIZE } from './spec.js';

const DESC_SIZE = 16;

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

  constructor(maxSize: number) {
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
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let readableLength = 0;
    let writableLength = 0;
    let index = head;
    for (let count = 0; ; count++) {
      if (count >= this.size) throw new VirtqueueError(`descriptor chain from head ${head} is longer than the queue size ${this.size} (a loop)`);
      if (index >= this.size) throw new VirtqueueError(`descriptor index ${index} is outside the table of ${this.size}`);
      const raw = checkedRead(mem, this.descAddr + BigInt(DESC_SIZE * index), DESC_SIZE, `descriptor ${index}`);
      const dv = new DataView(raw.buffer, raw.byteOffset, DESC_SIZE);
      const addr = dv.getBigUint64(0, true);
      const len = dv.getUint32(8, true);
      const flags = dv.getUint16(12, true);
      const next = dv.getUint16(14, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) throw new VirtqueueError(`descriptor ${index} is INDIRECT, which was not offered`);
      if (!mem.contains(addr, len)) throw new VirtqueueError(`descriptor ${index} buffer [0x${addr.toString(16)}, +${len}) is outside guest RAM`);
      if (flags & VIRTQ_DESC_F_WRITE) {
        writable.push({ addr, len });
        writableLength += len;
      } else {
        if (writable.length > 0) throw new VirtqueueError(`descriptor ${index} is device-readable but follows a device-writable one`);
        readable.push({ addr, len });
        readableLength += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      index = next;
    }
    return { head, readable, writable, readableLength, writableLength };
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
