/**
 * A small virtio-mmio driver for tests: fake guest RAM over an ArrayBuffer, the §3.1.1 init
 * sequence, split-virtqueue setup, and helpers to post well-formed or deliberately broken chains.
 */
import type { DmaMemory } from '../../lib/devices/virtio/dma-memory.js';
import type { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import * as V from '../../lib/devices/virtio/spec.js';

export class FakeRam implements DmaMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private next: bigint;
  constructor(readonly base = 0x8000_0000n, readonly size = 1 << 20) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.next = base + 0x1000n;
  }
  contains(gpa: bigint, length: number): boolean {
    return Number.isSafeInteger(length) && length >= 0 && gpa >= this.base && gpa + BigInt(length) <= this.base + BigInt(this.size);
  }
  private off(gpa: bigint, length: number): number {
    if (!this.contains(gpa, length)) throw new RangeError(`fake RAM access [0x${gpa.toString(16)}, +${length}) out of range`);
    return Number(gpa - this.base);
  }
  readBytes(gpa: bigint, length: number): Uint8Array {
    const o = this.off(gpa, length);
    return this.bytes.slice(o, o + length);
  }
  writeBytes(gpa: bigint, data: Uint8Array): void {
    this.bytes.set(data, this.off(gpa, data.length));
  }
  u16(gpa: bigint): number { return this.view.getUint16(this.off(gpa, 2), true); }
  u32(gpa: bigint): number { return this.view.getUint32(this.off(gpa, 4), true); }
  setU16(gpa: bigint, v: number): void { this.view.setUint16(this.off(gpa, 2), v, true); }
  setU32(gpa: bigint, v: number): void { this.view.setUint32(this.off(gpa, 4), v, true); }
  setU64(gpa: bigint, v: bigint): void { this.view.setBigUint64(this.off(gpa, 8), v, true); }
  /** Bump allocator for rings and buffers. */
  alloc(length: number, align = 16): bigint {
    const a = BigInt(align);
    const addr = ((this.next + a - 1n) / a) * a;
    this.next = addr + BigInt(length);
    if (!this.contains(addr, length)) throw new RangeError('fake RAM exhausted');
    return addr;
  }
}

export interface DriverQueue {
  size: number;
  desc: bigint;
  avail: bigint;
  used: bigint;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

export interface Buf {
  /** Device-readable contents, or, with `writable`, a device-writable buffer of this length. */
  data?: Uint8Array;
  writable?: number;
}

export class TestDriver {
  readonly queues: DriverQueue[] = [];
  constructor(readonly t: VirtioMmioTransport, readonly ram: FakeRam) {}

  r(off: number): number { return Number(this.t.read(off, 4)); }
  w(off: number, v: number): void { this.t.write(off, 4, BigInt(v)); }

  deviceFeatures(): bigint {
    this.w(V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const lo = BigInt(this.r(V.VIRTIO_MMIO_DEVICE_FEATURES));
    this.w(V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return lo | (BigInt(this.r(V.VIRTIO_MMIO_DEVICE_FEATURES)) << 32n);
  }

  /** §3.1.1 up to FEATURES_OK; returns whether the device kept FEATURES_OK. */
  negotiate(features = this.deviceFeatures()): boolean {
    this.w(V.VIRTIO_MMIO_STATUS, 0);
    this.w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER);
    this.w(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.w(V.VIRTIO_MMIO_DRIVER_FEATURES, Number(features & 0xffff_ffffn));
    this.w(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.w(V.VIRTIO_MMIO_DRIVER_FEATURES, Number(features >> 32n));
    this.w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_FEATURES_OK);
    return (this.r(V.VIRTIO_MMIO_STATUS) & V.VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
  }

  /** Sets up queue `i` with `size` entries (or explicit addresses) and marks it ready. */
  setupQueue(i: number, size: number, addrs?: { desc: bigint; avail: bigint; used: bigint }): DriverQueue {
    const q: DriverQueue = {
      size,
      desc: addrs?.desc ?? this.ram.alloc(16 * size, 16),
      avail: addrs?.avail ?? this.ram.alloc(6 + 2 * size, 2),
      used: addrs?.used ?? this.ram.alloc(6 + 8 * size, 4),
      nextDesc: 0, availIdx: 0, lastUsed: 0,
    };
    this.w(V.VIRTIO_MMIO_QUEUE_SEL, i);
    this.w(V.VIRTIO_MMIO_QUEUE_NUM, size);
    const set = (lo: number, v: bigint) => { this.w(lo, Number(v & 0xffff_ffffn)); this.w(lo + 4, Number(v >> 32n)); };
    set(V.VIRTIO_MMIO_QUEUE_DESC_LOW, q.desc);
    set(V.VIRTIO_MMIO_QUEUE_AVAIL_LOW, q.avail);
    set(V.VIRTIO_MMIO_QUEUE_USED_LOW, q.used);
    this.w(V.VIRTIO_MMIO_QUEUE_READY, 1);
    this.queues[i] = q;
    return q;
  }

  driverOk(): void {
    this.w(V.VIRTIO_MMIO_STATUS, this.r(V.VIRTIO_MMIO_STATUS) | V.VIRTIO_CONFIG_S_DRIVER_OK);
  }

  /** Full init: negotiate everything offered, set up `sizes` queues, DRIVER_OK. */
  init(sizes: number[]): void {
    if (!this.negotiate()) throw new Error('feature negotiation failed');
    sizes.forEach((n, i) => this.setupQueue(i, n));
    this.driverOk();
  }

  writeDesc(qi: number, index: number, addr: bigint, len: number, flags: number, next: number): void {
    const q = this.queues[qi]!;
    const d = q.desc + BigInt(16 * index);
    this.ram.setU64(d, addr);
    this.ram.setU32(d + 8n, len);
    this.ram.setU16(d + 12n, flags);
    this.ram.setU16(d + 14n, next);
  }

  /** Places `head` in the avail ring and publishes it (no notify). */
  makeAvailable(qi: number, head: number): void {
    const q = this.queues[qi]!;
    this.ram.setU16(q.avail + 4n + BigInt(2 * (q.availIdx % q.size)), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.ram.setU16(q.avail + 2n, q.availIdx);
  }

  notify(qi: number): void {
    this.w(V.VIRTIO_MMIO_QUEUE_NOTIFY, qi);
  }

  /** Builds a chain from `bufs` (readable first), makes it available and notifies. Returns the
   * head and the guest addresses of the buffers. */
  submit(qi: number, bufs: Buf[], notify = true): { head: number; addrs: bigint[] } {
    const q = this.queues[qi]!;
    const indices = bufs.map(() => { const i = q.nextDesc; q.nextDesc = (q.nextDesc + 1) % q.size; return i; });
    const addrs: bigint[] = [];
    bufs.forEach((b, k) => {
      const len = b.writable ?? b.data!.length;
      const addr = this.ram.alloc(Math.max(len, 1), 8);
      if (b.data) this.ram.writeBytes(addr, b.data);
      addrs.push(addr);
      const more = k + 1 < bufs.length;
      this.writeDesc(qi, indices[k]!, addr, len, (b.writable !== undefined ? V.VIRTQ_DESC_F_WRITE : 0) | (more ? V.VIRTQ_DESC_F_NEXT : 0), more ? indices[k + 1]! : 0);
    });
    this.makeAvailable(qi, indices[0]!);
    if (notify) this.notify(qi);
    return { head: indices[0]!, addrs };
  }

  /** Used elements published since the last call. */
  takeUsed(qi: number): { id: number; len: number }[] {
    const q = this.queues[qi]!;
    const idx = this.ram.u16(q.used + 2n);
    const out: { id: number; len: number }[] = [];
    while (q.lastUsed !== idx) {
      const e = q.used + 4n + BigInt(8 * (q.lastUsed % q.size));
      out.push({ id: this.ram.u32(e), len: this.ram.u32(e + 4n) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  status(): number { return this.r(V.VIRTIO_MMIO_STATUS); }
  interruptStatus(): number { return this.r(V.VIRTIO_MMIO_INTERRUPT_STATUS); }
  ack(bits = this.interruptStatus()): void { this.w(V.VIRTIO_MMIO_INTERRUPT_ACK, bits); }
  needsReset(): boolean { return (this.status() & V.VIRTIO_CONFIG_S_NEEDS_RESET) !== 0; }
}
