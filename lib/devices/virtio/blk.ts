/**
 * virtio-blk (virtio v1.2 §5.2) over a raw image file the caller opened (the machine owns opening
 * and reports a missing or unreadable disk; this model only uses the descriptor).
 *
 * One request queue. A request is a readable header {type u32, reserved u32, sector u64}, then data
 * buffers (readable for OUT, writable for IN/GET_ID), then one writable status byte (§5.2.6).
 * Offered features: VIRTIO_BLK_F_FLUSH (FLUSH → fsync), VIRTIO_BLK_F_SEG_MAX (without it Linux
 * sends one data buffer per request) and, for a read-only disk, VIRTIO_BLK_F_RO (OUT requests then
 * fail with VIRTIO_BLK_S_IOERR, §5.2.6.2). Config space (§5.2.4): capacity in 512-byte sectors and
 * seg_max; the other fields belong to features not offered and read as 0.
 *
 * Every request is checked against the capacity; one reaching past it, with a data length that is
 * not a multiple of 512 (§5.2.6.1), or failing on the host file gets VIRTIO_BLK_S_IOERR; unknown
 * types get VIRTIO_BLK_S_UNSUPP. A chain too malformed to carry a status (no writable byte, a
 * header shorter than 16 bytes) is returned with nothing written: it is the guest's own request
 * that failed, not the device, so the queue keeps working. Disk I/O is synchronous (fs.readSync /
 * writeSync) and done in bounded pieces, so a guest cannot make the host allocate more than
 * IO_CHUNK bytes at once.
 */
import { fstatSync, fsyncSync, readSync, writeSync } from 'node:fs';
import { checkedRead, checkedWrite } from './dma-memory.js';
import { readConfigBytes, type VirtioDevice, type VirtioQueueAccess } from './device.js';
import * as V from './spec.js';
import { checkOptionalBoolean, checkOptionsObject, describeValue } from '../../option-checks.js';
import { gatherReadable, sliceSegments, type DescriptorChain, type Segment } from './virtqueue.js';

const REQUESTQ = 0;
const QUEUE_SIZE = 256;
const HEADER_SIZE = 16;
const IO_CHUNK = 1024 * 1024;
/** struct virtio_blk_config up to and including blk_size & geometry (§5.2.4). */
const CONFIG_SIZE = 60;
const CONFIG_CAPACITY = 0;
const CONFIG_SEG_MAX = 12;
/** Data buffers per request: the queue size less the header and status descriptors, so a request
 * always fits the ring even without indirect descriptors (as QEMU sets seg_max). */
const SEG_MAX = QUEUE_SIZE - 2;

export interface VirtioBlkOptions {
  /** An open file descriptor of the raw image (O_RDWR, or O_RDONLY with readOnly). */
  fd: number;
  readOnly?: boolean;
  /** Answer to VIRTIO_BLK_T_GET_ID (up to 20 bytes; default "kvm-riscv"). */
  serial?: string;
  /** Image size in bytes; defaults to fstat of fd. Capacity is this rounded down to sectors. */
  sizeBytes?: number;
}

export type VirtioBlkSnapshot = Record<string, never>;

export class VirtioBlk implements VirtioDevice<VirtioBlkSnapshot> {
  readonly deviceId = V.VIRTIO_ID_BLOCK;
  readonly kind = 'blk';
  readonly features: bigint;
  readonly queueMaxSizes = [QUEUE_SIZE];
  readonly readOnly: boolean;
  /** Capacity in 512-byte sectors. */
  readonly capacity: bigint;
  private readonly fd: number;
  private readonly serial: Uint8Array;
  private readonly config = new Uint8Array(CONFIG_SIZE);

  constructor(opts: VirtioBlkOptions) {
    checkOptionsObject('VirtioBlk', opts);
    if (typeof opts.fd !== 'number') throw new TypeError(`VirtioBlk: fd must be a number (an open file descriptor), got ${describeValue(opts.fd)}`);
    if (!Number.isInteger(opts.fd) || opts.fd < 0) throw new RangeError(`fd ${opts.fd} is not a file descriptor`);
    checkOptionalBoolean('VirtioBlk', 'readOnly', opts.readOnly);
    if (opts.serial !== undefined && typeof opts.serial !== 'string') throw new TypeError(`VirtioBlk: serial must be a string, got ${describeValue(opts.serial)}`);
    if (opts.sizeBytes !== undefined && typeof opts.sizeBytes !== 'number') throw new TypeError(`VirtioBlk: sizeBytes must be a number of bytes, got ${describeValue(opts.sizeBytes)}`);
    this.fd = opts.fd;
    this.readOnly = opts.readOnly ?? false;
    const size = opts.sizeBytes ?? fstatSync(opts.fd).size;
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`disk size ${size} is not a byte count`);
    this.capacity = BigInt(Math.floor(size / V.VIRTIO_BLK_SECTOR_SIZE));
    const serial = new TextEncoder().encode(opts.serial ?? 'kvm-riscv');
    if (serial.length > V.VIRTIO_BLK_ID_BYTES) throw new RangeError(`serial '${opts.serial}' is longer than ${V.VIRTIO_BLK_ID_BYTES} bytes`);
    this.serial = serial;
    this.features = (1n << BigInt(V.VIRTIO_BLK_F_FLUSH)) | (1n << BigInt(V.VIRTIO_BLK_F_SEG_MAX))
      | (this.readOnly ? 1n << BigInt(V.VIRTIO_BLK_F_RO) : 0n);
    const config = new DataView(this.config.buffer);
    config.setBigUint64(CONFIG_CAPACITY, this.capacity, true);
    config.setUint32(CONFIG_SEG_MAX, SEG_MAX, true);
  }

  readConfig(offset: number, size: number): number {
    return readConfigBytes(this.config, offset, size);
  }

  writeConfig(): void {
    // Only `writeback` is writable, and only with VIRTIO_BLK_F_CONFIG_WCE (not offered).
  }

  queueNotify(index: number, io: VirtioQueueAccess): void {
    if (index !== REQUESTQ) return;
    const q = io.queue(REQUESTQ);
    let used = false;
    for (let chain = q.pop(io.memory); chain; chain = q.pop(io.memory)) {
      q.push(io.memory, chain, this.handle(io, chain));
      used = true;
    }
    if (used) io.notifyUsed(REQUESTQ);
  }

  /** Runs one request; returns the bytes written into the chain (data + status). */
  private handle(io: VirtioQueueAccess, chain: DescriptorChain): number {
    if (chain.writableLength < 1 || chain.readableLength < HEADER_SIZE) return 0;
    const header = gatherReadable(io.memory, chain, HEADER_SIZE);
    const dv = new DataView(header.buffer);
    const type = dv.getUint32(0, true);
    const sector = dv.getBigUint64(8, true);
    const dataIn = sliceSegments(chain.writable, 0, chain.writableLength - 1);
    const statusSeg = sliceSegments(chain.writable, chain.writableLength - 1, 1)[0]!;
    let status: number = V.VIRTIO_BLK_S_OK;
    let written = 0;
    switch (type) {
      case V.VIRTIO_BLK_T_IN: {
        const len = chain.writableLength - 1;
        if (!this.inRange(sector, len)) status = V.VIRTIO_BLK_S_IOERR;
        else if (!this.hostIo(() => this.readDisk(io, dataIn, sector))) status = V.VIRTIO_BLK_S_IOERR;
        else written = len;
        break;
      }
      case V.VIRTIO_BLK_T_OUT: {
        const dataOut = sliceSegments(chain.readable, HEADER_SIZE, chain.readableLength - HEADER_SIZE);
        const len = chain.readableLength - HEADER_SIZE;
        if (this.readOnly || !this.inRange(sector, len)) status = V.VIRTIO_BLK_S_IOERR;
        else if (!this.hostIo(() => this.writeDisk(io, dataOut, sector))) status = V.VIRTIO_BLK_S_IOERR;
        break;
      }
      case V.VIRTIO_BLK_T_FLUSH:
        if (!this.readOnly && !this.hostIo(() => fsyncSync(this.fd))) status = V.VIRTIO_BLK_S_IOERR;
        break;
      case V.VIRTIO_BLK_T_GET_ID: {
        // §5.2.6.1: up to 20 bytes, NUL-padded only if shorter than the buffer.
        const id = new Uint8Array(Math.min(V.VIRTIO_BLK_ID_BYTES, chain.writableLength - 1));
        id.set(this.serial.subarray(0, id.length));
        let off = 0;
        for (const seg of dataIn) {
          const n = Math.min(seg.len, id.length - off);
          if (n <= 0) break;
          checkedWrite(io.memory, seg.addr, id.subarray(off, off + n), 'GET_ID buffer');
          off += n;
        }
        written = off;
        break;
      }
      default:
        status = V.VIRTIO_BLK_S_UNSUPP;
    }
    checkedWrite(io.memory, statusSeg.addr, Uint8Array.of(status), 'status byte');
    return written + 1;
  }

  /** A transfer of `len` bytes at `sector` is whole sectors and inside the disk. */
  private inRange(sector: bigint, len: number): boolean {
    if (len % V.VIRTIO_BLK_SECTOR_SIZE !== 0) return false;
    return sector <= this.capacity && BigInt(len / V.VIRTIO_BLK_SECTOR_SIZE) <= this.capacity - sector;
  }

  /** Runs a host file operation; a failing disk (EIO, ENOSPC, ...) is the request's IOERR. */
  private hostIo(op: () => void): boolean {
    try {
      op();
      return true;
    } catch (e) {
      if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') return false;
      throw e;
    }
  }

  private readDisk(io: VirtioQueueAccess, segments: readonly Segment[], sector: bigint): void {
    let pos = Number(sector) * V.VIRTIO_BLK_SECTOR_SIZE;
    for (const seg of segments) {
      for (let done = 0; done < seg.len;) {
        const n = Math.min(IO_CHUNK, seg.len - done);
        const buf = new Uint8Array(n);
        // A short read (the image shrank under us) leaves zeros, as reading a hole would.
        for (let got = 0; got < n;) {
          const r = readSync(this.fd, buf, got, n - got, pos + got);
          if (r === 0) break;
          got += r;
        }
        checkedWrite(io.memory, seg.addr + BigInt(done), buf, 'read buffer');
        done += n;
        pos += n;
      }
    }
  }

  private writeDisk(io: VirtioQueueAccess, segments: readonly Segment[], sector: bigint): void {
    let pos = Number(sector) * V.VIRTIO_BLK_SECTOR_SIZE;
    for (const seg of segments) {
      for (let done = 0; done < seg.len;) {
        const n = Math.min(IO_CHUNK, seg.len - done);
        const buf = checkedRead(io.memory, seg.addr + BigInt(done), n, 'write buffer');
        for (let put = 0; put < n;) {
          const w = writeSync(this.fd, buf, put, n - put, pos + put);
          // A write that makes no progress would loop forever; report it as the request's I/O error.
          if (w <= 0) throw Object.assign(new Error('disk write made no progress'), { code: 'EIO' });
          put += w;
        }
        done += n;
        pos += n;
      }
    }
  }

  reset(): void {}

  snapshot(): VirtioBlkSnapshot {
    return {};
  }

  restore(): void {}
}
