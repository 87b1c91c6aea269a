import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtioBlk } from '../../lib/devices/virtio/blk.js';
import { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import * as V from '../../lib/devices/virtio/spec.js';
import { FakeRam, TestDriver } from './devices-virtio-driver.js';

const SECTORS = 8;

function header(type: number, sector: bigint): Uint8Array {
  const h = new Uint8Array(16);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, type, true);
  dv.setBigUint64(8, sector, true);
  return h;
}

/** Sector s of the image is filled with the byte s + 1. */
function imageBytes(): Uint8Array {
  const b = new Uint8Array(SECTORS * 512 + 100); // a partial trailing sector is not capacity
  for (let s = 0; s < SECTORS; s++) b.fill(s + 1, s * 512, (s + 1) * 512);
  return b;
}

describe('virtio-blk', () => {
  let dir: string;
  let path: string;
  const fds: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-blk-'));
    path = join(dir, 'disk.img');
    writeFileSync(path, imageBytes());
  });
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  function rig(readOnly = false) {
    const fd = openSync(path, readOnly ? 'r' : 'r+');
    fds.push(fd);
    const ram = new FakeRam();
    const dev = new VirtioBlk({ fd, readOnly, serial: 'disk-0' });
    const t = new VirtioMmioTransport(dev, { memory: ram, irqNumber: 2 });
    const drv = new TestDriver(t, ram);
    drv.init([16]);
    /** Submits a request and returns [status, used len, data buffer addresses]. */
    const request = (type: number, sector: bigint, data: { out?: Uint8Array; inLen?: number } = {}) => {
      const bufs = [{ data: header(type, sector) }];
      if (data.out) bufs.push({ data: data.out });
      const withIn = data.inLen !== undefined ? [{ writable: data.inLen }] : [];
      const sub = drv.submit(0, [...bufs, ...withIn, { writable: 1 }]);
      const used = drv.takeUsed(0);
      expect(used).toHaveLength(1);
      expect(used[0]!.id).toBe(sub.head);
      const status = ram.readBytes(sub.addrs[sub.addrs.length - 1]!, 1)[0]!;
      return { status, len: used[0]!.len, addrs: sub.addrs };
    };
    return { dev, t, drv, ram, request };
  }

  it('reports capacity in sectors and FLUSH in config/features', () => {
    const { drv, t, dev } = rig();
    expect(drv.r(V.VIRTIO_MMIO_DEVICE_ID)).toBe(V.VIRTIO_ID_BLOCK);
    expect(dev.capacity).toBe(BigInt(SECTORS));
    expect(drv.r(V.VIRTIO_MMIO_CONFIG)).toBe(SECTORS);
    expect(drv.r(V.VIRTIO_MMIO_CONFIG + 4)).toBe(0);
    expect(t.read(V.VIRTIO_MMIO_CONFIG, 8)).toBe(BigInt(SECTORS));
    expect(t.read(V.VIRTIO_MMIO_CONFIG, 1)).toBe(SECTORS);
    expect(t.read(V.VIRTIO_MMIO_CONFIG + 0xe00, 4)).toBe(0); // past the config space
    t.write(V.VIRTIO_MMIO_CONFIG, 4, 0n); // capacity is read-only
    expect(drv.r(V.VIRTIO_MMIO_CONFIG)).toBe(SECTORS);
    const f = drv.deviceFeatures();
    expect(f & (1n << BigInt(V.VIRTIO_BLK_F_FLUSH))).not.toBe(0n);
    expect(f & (1n << BigInt(V.VIRTIO_BLK_F_RO))).toBe(0n);
    expect(f & (1n << BigInt(V.VIRTIO_BLK_F_SEG_MAX))).not.toBe(0n);
    expect(drv.r(V.VIRTIO_MMIO_CONFIG + 12)).toBe(254); // seg_max
  });

  it('reads sectors into guest buffers', () => {
    const { request, ram } = rig();
    const r = request(V.VIRTIO_BLK_T_IN, 2n, { inLen: 1024 });
    expect(r.status).toBe(V.VIRTIO_BLK_S_OK);
    expect(r.len).toBe(1025);
    const data = ram.readBytes(r.addrs[1]!, 1024);
    expect(data.subarray(0, 512).every((b) => b === 3)).toBe(true);
    expect(data.subarray(512).every((b) => b === 4)).toBe(true);
  });

  it('writes sectors to the file and flushes', () => {
    const { request } = rig();
    const payload = new Uint8Array(512).fill(0xaa);
    const r = request(V.VIRTIO_BLK_T_OUT, 5n, { out: payload });
    expect(r.status).toBe(V.VIRTIO_BLK_S_OK);
    expect(r.len).toBe(1);
    expect(request(V.VIRTIO_BLK_T_FLUSH, 0n).status).toBe(V.VIRTIO_BLK_S_OK);
    const file = readFileSync(path);
    expect(file.subarray(5 * 512, 6 * 512).every((b) => b === 0xaa)).toBe(true);
    expect(file[4 * 512]).toBe(5);
    expect(file[6 * 512]).toBe(7);
  });

  it('read-only: offers VIRTIO_BLK_F_RO and fails writes with IOERR, leaving the file alone', () => {
    const { request, drv } = rig(true);
    expect(drv.deviceFeatures() & (1n << BigInt(V.VIRTIO_BLK_F_RO))).not.toBe(0n);
    expect(request(V.VIRTIO_BLK_T_OUT, 0n, { out: new Uint8Array(512) }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(readFileSync(path)[0]).toBe(1);
    expect(request(V.VIRTIO_BLK_T_IN, 0n, { inLen: 512 }).status).toBe(V.VIRTIO_BLK_S_OK);
    expect(request(V.VIRTIO_BLK_T_FLUSH, 0n).status).toBe(V.VIRTIO_BLK_S_OK);
  });

  it('requests beyond capacity or not whole sectors get IOERR; the queue keeps working', () => {
    const { request, drv } = rig();
    expect(request(V.VIRTIO_BLK_T_IN, BigInt(SECTORS), { inLen: 512 }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(request(V.VIRTIO_BLK_T_IN, BigInt(SECTORS - 1), { inLen: 1024 }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(request(V.VIRTIO_BLK_T_IN, 0xffff_ffff_ffff_ffffn, { inLen: 512 }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(request(V.VIRTIO_BLK_T_OUT, BigInt(SECTORS), { out: new Uint8Array(512) }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(request(V.VIRTIO_BLK_T_IN, 0n, { inLen: 100 }).status).toBe(V.VIRTIO_BLK_S_IOERR);
    expect(request(V.VIRTIO_BLK_T_IN, BigInt(SECTORS - 1), { inLen: 512 }).status).toBe(V.VIRTIO_BLK_S_OK);
    expect(readFileSync(path).length).toBe(SECTORS * 512 + 100); // nothing written past the end
    expect(drv.needsReset()).toBe(false);
  });

  it('GET_ID returns the serial; unknown types get UNSUPP', () => {
    const { request, ram } = rig();
    const r = request(V.VIRTIO_BLK_T_GET_ID, 0n, { inLen: 20 });
    expect(r.status).toBe(V.VIRTIO_BLK_S_OK);
    expect(new TextDecoder().decode(ram.readBytes(r.addrs[1]!, 6))).toBe('disk-0');
    expect(ram.readBytes(r.addrs[1]!, 20)[6]).toBe(0);
    expect(request(99, 0n).status).toBe(V.VIRTIO_BLK_S_UNSUPP);
  });

  it('a request with no status byte or a short header is consumed without writes', () => {
    const { drv } = rig();
    const a = drv.submit(0, [{ data: header(V.VIRTIO_BLK_T_IN, 0n) }, { data: new Uint8Array(512) }]);
    const b = drv.submit(0, [{ data: new Uint8Array(4) }, { writable: 1 }]);
    expect(drv.takeUsed(0)).toEqual([{ id: a.head, len: 0 }, { id: b.head, len: 0 }]);
    expect(drv.ram.readBytes(b.addrs[1]!, 1)[0]).toBe(0);
    expect(drv.needsReset()).toBe(false);
  });

  it('data buffers outside RAM put the device in NEEDS_RESET without touching the file', () => {
    const { drv } = rig();
    const hdr = drv.ram.alloc(16);
    drv.ram.writeBytes(hdr, header(V.VIRTIO_BLK_T_OUT, 0n));
    drv.writeDesc(0, 0, hdr, 16, V.VIRTQ_DESC_F_NEXT, 1);
    drv.writeDesc(0, 1, 0x1000n, 512, V.VIRTQ_DESC_F_NEXT, 2);
    drv.writeDesc(0, 2, drv.ram.alloc(1), 1, V.VIRTQ_DESC_F_WRITE, 0);
    drv.makeAvailable(0, 0);
    drv.notify(0);
    expect(drv.needsReset()).toBe(true);
    expect(readFileSync(path)[0]).toBe(1);
  });
});

describe('virtio-blk with indirect descriptors', () => {
  it('serves a read whose buffers sit in an indirect table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-blk-'));
    const path = join(dir, 'disk.img');
    writeFileSync(path, imageBytes());
    const fd = openSync(path, 'r');
    try {
      const ram = new FakeRam();
      const t = new VirtioMmioTransport(new VirtioBlk({ fd, readOnly: true }), { memory: ram, irqNumber: 2 });
      const drv = new TestDriver(t, ram);
      drv.init([4]);
      const hdr = ram.alloc(16);
      ram.writeBytes(hdr, header(V.VIRTIO_BLK_T_IN, 6n));
      const data = [ram.alloc(256), ram.alloc(256)];
      const status = ram.alloc(1);
      const table = ram.alloc(64);
      const entries: [bigint, number, number][] = [[hdr, 16, 0], [data[0]!, 256, V.VIRTQ_DESC_F_WRITE], [data[1]!, 256, V.VIRTQ_DESC_F_WRITE], [status, 1, V.VIRTQ_DESC_F_WRITE]];
      entries.forEach(([addr, len, flags], i) => {
        const d = table + BigInt(16 * i);
        ram.setU64(d, addr);
        ram.setU32(d + 8n, len);
        ram.setU16(d + 12n, flags | (i < 3 ? V.VIRTQ_DESC_F_NEXT : 0));
        ram.setU16(d + 14n, i + 1);
      });
      drv.writeDesc(0, 0, table, 64, V.VIRTQ_DESC_F_INDIRECT, 0);
      drv.makeAvailable(0, 0);
      drv.notify(0);
      expect(drv.takeUsed(0)).toEqual([{ id: 0, len: 513 }]);
      expect(ram.readBytes(status, 1)[0]).toBe(V.VIRTIO_BLK_S_OK);
      expect(ram.readBytes(data[1]!, 256).every((b) => b === 7)).toBe(true);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
