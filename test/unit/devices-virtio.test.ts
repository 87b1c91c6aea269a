import { describe, expect, it } from 'vitest';
import { FdtBuilder, findNode, parseFdt, propCells, propStrings, propU32 } from '../../lib/boot/fdt.js';
import { RecordingIrqLine } from '../../lib/devices/irq.js';
import { VirtioConsole } from '../../lib/devices/virtio/console.js';
import { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import { VirtioRng } from '../../lib/devices/virtio/rng.js';
import * as V from '../../lib/devices/virtio/spec.js';
import { FakeRam, TestDriver } from './devices-virtio-driver.js';

/** Writes descriptor `i` of an indirect table at `table`. */
function writeTableEntry(ram: FakeRam, table: bigint, i: number, addr: bigint, len: number, flags: number, next: number): void {
  const d = table + BigInt(16 * i);
  ram.setU64(d, addr);
  ram.setU32(d + 8n, len);
  ram.setU16(d + 12n, flags);
  ram.setU16(d + 14n, next);
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function consoleRig(indirectDescriptors = true) {
  const ram = new FakeRam();
  const out: Uint8Array[] = [];
  const irq = new RecordingIrqLine();
  const dev = new VirtioConsole({ sink: (d) => out.push(d) });
  const t = new VirtioMmioTransport(dev, { memory: ram, irq, irqNumber: 1, indirectDescriptors });
  const drv = new TestDriver(t, ram);
  const text = () => dec(Uint8Array.from(out.flatMap((b) => [...b])));
  return { ram, dev, t, drv, irq, text };
}

describe('virtio-mmio transport registers', () => {
  it('identifies as a version-2 device with VERSION_1 offered', () => {
    const { drv, t } = consoleRig();
    expect(drv.r(V.VIRTIO_MMIO_MAGIC_VALUE)).toBe(0x7472_6976);
    expect(drv.r(V.VIRTIO_MMIO_VERSION)).toBe(2);
    expect(drv.r(V.VIRTIO_MMIO_DEVICE_ID)).toBe(V.VIRTIO_ID_CONSOLE);
    expect(drv.r(V.VIRTIO_MMIO_VENDOR_ID)).toBe(0x554d_4551);
    expect(drv.deviceFeatures()).toBe((1n << 32n) | (1n << BigInt(V.VIRTIO_F_INDIRECT_DESC)));
    drv.w(V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
    expect(drv.r(V.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(0);
    drv.w(V.VIRTIO_MMIO_QUEUE_SEL, 1);
    expect(drv.r(V.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(256);
    drv.w(V.VIRTIO_MMIO_QUEUE_SEL, 2);
    expect(drv.r(V.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(0); // no such queue
    expect(drv.r(V.VIRTIO_MMIO_SHM_LEN_LOW)).toBe(0xffff_ffff);
    expect(drv.r(V.VIRTIO_MMIO_SHM_BASE_HIGH)).toBe(0xffff_ffff);
    // Control registers need aligned 32-bit accesses.
    expect(t.read(V.VIRTIO_MMIO_MAGIC_VALUE, 1)).toBe(0);
    expect(t.read(V.VIRTIO_MMIO_MAGIC_VALUE + 2, 4)).toBe(0);
    t.write(V.VIRTIO_MMIO_STATUS, 2, 1n);
    expect(drv.status()).toBe(0);
  });

  it('refuses FEATURES_OK without VERSION_1 or with features not offered', () => {
    const { drv } = consoleRig();
    expect(drv.negotiate(0n)).toBe(false);
    expect(drv.negotiate((1n << 32n) | (1n << BigInt(V.VIRTIO_F_EVENT_IDX)))).toBe(false);
    expect(drv.negotiate(1n << 32n)).toBe(true);
    // Frozen after FEATURES_OK.
    drv.w(V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    drv.w(V.VIRTIO_MMIO_DRIVER_FEATURES, 0xffff_ffff);
    expect(drv.t.negotiatedFeatures).toBe(1n << 32n);
    // DRIVER_OK without FEATURES_OK does not make the device live.
    drv.w(V.VIRTIO_MMIO_STATUS, 0);
    drv.w(V.VIRTIO_MMIO_STATUS, V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER | V.VIRTIO_CONFIG_S_DRIVER_OK);
    expect(drv.t.live).toBe(false);
  });

  it('ignores queue register writes once the queue is ready, and for absent queues', () => {
    const { drv } = consoleRig();
    drv.negotiate();
    const q = drv.setupQueue(0, 8);
    drv.w(V.VIRTIO_MMIO_QUEUE_NUM, 4);
    drv.w(V.VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234);
    expect(drv.t.snapshot().queues[0]).toMatchObject({ size: 8, descAddr: q.desc.toString(), ready: true });
    drv.w(V.VIRTIO_MMIO_QUEUE_SEL, 9);
    drv.w(V.VIRTIO_MMIO_QUEUE_READY, 1);
    expect(drv.r(V.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
    expect(drv.needsReset()).toBe(false);
  });

  it('writes a virtio_mmio node that parses back', () => {
    const fdt = new FdtBuilder();
    consoleRig().t.writeFdtNode(fdt.root, { base: 0x1000_1000n, size: 0x1000n, interruptParent: 7, cpuIntcPhandles: [] });
    const node = findNode(parseFdt(fdt.toBytes()).root, '/virtio_mmio@10001000')!;
    expect(propStrings(node.props.get('compatible')!)).toEqual(['virtio,mmio']);
    expect(propCells(node.props.get('reg')!)).toEqual([0, 0x1000_1000, 0, 0x1000]);
    expect(propU32(node.props.get('interrupts')!)).toBe(1);
    expect(propU32(node.props.get('interrupt-parent')!)).toBe(7);
  });
});

describe('virtio-console', () => {
  it('transmits chains to the sink and returns them used with an interrupt', () => {
    const { drv, irq, text } = consoleRig();
    drv.init([16, 16]);
    const { head } = drv.submit(1, [{ data: enc('hello, ') }, { data: enc('world') }]);
    expect(text()).toBe('hello, world');
    expect(drv.takeUsed(1)).toEqual([{ id: head, len: 0 }]);
    expect(drv.interruptStatus()).toBe(V.VIRTIO_MMIO_INT_VRING);
    expect(irq.level).toBe(true);
    drv.ack();
    expect(irq.level).toBe(false);
  });

  it('honours VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    const { drv, ram, irq, text } = consoleRig();
    drv.init([16, 16]);
    ram.setU16(drv.queues[1]!.avail, V.VIRTQ_AVAIL_F_NO_INTERRUPT);
    drv.submit(1, [{ data: enc('quiet') }]);
    expect(text()).toBe('quiet');
    expect(drv.takeUsed(1)).toHaveLength(1);
    expect(irq.level).toBe(false);
  });

  it('holds host input until receive buffers are posted, then fills them', () => {
    const { dev, drv, ram, irq } = consoleRig();
    expect(dev.input(enc('early'))).toBe(5); // before the driver exists
    drv.init([16, 16]);
    expect(dev.pendingInput).toBe(5);
    const a = drv.submit(0, [{ writable: 3 }]);
    const b = drv.submit(0, [{ writable: 64 }]);
    expect(drv.takeUsed(0)).toEqual([{ id: a.head, len: 3 }, { id: b.head, len: 2 }]);
    expect(dec(ram.readBytes(a.addrs[0]!, 3)) + dec(ram.readBytes(b.addrs[0]!, 2))).toBe('early');
    expect(irq.level).toBe(true);
    drv.ack();
    // With a buffer already posted, input is delivered at once.
    const c = drv.submit(0, [{ writable: 64 }]);
    expect(drv.takeUsed(0)).toEqual([]);
    dev.input(enc('late'));
    expect(drv.takeUsed(0)).toEqual([{ id: c.head, len: 4 }]);
    expect(dec(ram.readBytes(c.addrs[0]!, 4))).toBe('late');
  });

  it('snapshot/restore mid-stream: indices and pending input carry over', () => {
    const a = consoleRig();
    a.drv.init([8, 8]);
    a.drv.submit(1, [{ data: enc('one ') }]);
    a.dev.input(enc('typed'));
    const snap = JSON.parse(JSON.stringify(a.t.snapshot()));
    // A fresh transport over the same RAM continues where the first stopped.
    const out: Uint8Array[] = [];
    const irq = new RecordingIrqLine();
    const dev = new VirtioConsole({ sink: (d) => out.push(d) });
    const t = new VirtioMmioTransport(dev, { memory: a.ram, irq, irqNumber: 1 });
    t.restore(snap);
    expect(t.snapshot()).toEqual(a.t.snapshot());
    expect(irq.level).toBe(true); // the unacknowledged used-buffer interrupt
    expect(dev.pendingInput).toBe(5);
    const drv = new TestDriver(t, a.ram);
    drv.queues.push(...a.drv.queues);
    drv.submit(1, [{ data: enc('two') }]);
    expect(dec(out[0]!)).toBe('two');
    expect(drv.takeUsed(1).map((u) => u.id)).toEqual([0, 1]);
    expect(() => t.restore({ ...snap, queues: [] })).toThrow(RangeError);
    expect(() => t.restore({ ...snap, driverFeatures: '-1' })).toThrow(RangeError);
  });
});

describe('virtio misbehaving drivers: DEVICE_NEEDS_RESET, never a host exception', () => {
  function expectNeedsReset(rig: ReturnType<typeof consoleRig>, pattern: RegExp): void {
    expect(rig.drv.needsReset()).toBe(true);
    expect(rig.drv.interruptStatus() & V.VIRTIO_MMIO_INT_CONFIG).toBe(V.VIRTIO_MMIO_INT_CONFIG);
    expect(rig.irq.level).toBe(true);
    expect(rig.t.lastError).toMatch(pattern);
  }

  it('a descriptor loop ends as an error, not a hang', () => {
    const rig = consoleRig();
    rig.drv.init([8, 8]);
    const buf = rig.ram.alloc(16);
    rig.drv.writeDesc(1, 0, buf, 4, V.VIRTQ_DESC_F_NEXT, 1);
    rig.drv.writeDesc(1, 1, buf, 4, V.VIRTQ_DESC_F_NEXT, 0);
    rig.drv.makeAvailable(1, 0);
    rig.drv.notify(1);
    expectNeedsReset(rig, /longer than its table of 8 \(a loop\)/);
    expect(rig.text()).toBe('');
  });

  it('reports the reason to onDeviceError once', () => {
    const ram = new FakeRam();
    const errors: string[] = [];
    const t = new VirtioMmioTransport(new VirtioConsole(), { memory: ram, irqNumber: 1, onDeviceError: (m) => errors.push(m) });
    const drv = new TestDriver(t, ram);
    drv.init([8, 8]);
    drv.makeAvailable(1, 100);
    drv.notify(1);
    drv.notify(1);
    expect(errors).toEqual(['console: descriptor index 100 is outside the table of 8']);
  });

  it('after NEEDS_RESET, notifications are ignored until the driver resets the device', () => {
    const rig = consoleRig();
    rig.drv.init([8, 8]);
    rig.drv.writeDesc(1, 0, 0x10n, 4, 0, 0); // outside RAM
    rig.drv.makeAvailable(1, 0);
    rig.drv.notify(1);
    expectNeedsReset(rig, /outside guest RAM/);
    rig.drv.submit(1, [{ data: enc('x') }]);
    expect(rig.text()).toBe('');
    // Driver writes status without NEEDS_RESET: it sticks until reset.
    rig.drv.w(V.VIRTIO_MMIO_STATUS, 0x0f);
    expect(rig.drv.needsReset()).toBe(true);
    rig.drv.w(V.VIRTIO_MMIO_STATUS, 0);
    expect(rig.drv.status()).toBe(0);
    expect(rig.irq.level).toBe(false);
    expect(rig.t.lastError).toBeUndefined();
    rig.drv.init([8, 8]);
    rig.drv.submit(1, [{ data: enc('again') }]);
    expect(rig.text()).toBe('again');
  });

  const chainCases: [string, (rig: ReturnType<typeof consoleRig>) => void, RegExp, boolean?][] = [
    ['a huge length running past RAM', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 0xffff_ffff, 0, 0), /outside guest RAM/],
    ['an address that wraps 2^64', (rig) => rig.drv.writeDesc(1, 0, 0xffff_ffff_ffff_fff0n, 0x20, 0, 0), /outside guest RAM/],
    ['INDIRECT when it was not offered', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 16, V.VIRTQ_DESC_F_INDIRECT, 0), /INDIRECT, which was not negotiated/, false],
    ['INDIRECT together with NEXT', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 16, V.VIRTQ_DESC_F_INDIRECT | V.VIRTQ_DESC_F_NEXT, 1), /both INDIRECT and NEXT/],
    ['an indirect table whose length is not whole descriptors', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 24, V.VIRTQ_DESC_F_INDIRECT, 0), /indirect table length 24/],
    ['an empty indirect table', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 0, V.VIRTQ_DESC_F_INDIRECT, 0), /indirect table length 0/],
    ['an indirect table outside RAM', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + BigInt(rig.ram.size) - 16n, 32, V.VIRTQ_DESC_F_INDIRECT, 0), /indirect table .* outside guest RAM/],
    ['a nested indirect table', (rig) => {
      const table = rig.ram.alloc(32);
      writeTableEntry(rig.ram, table, 0, table, 32, V.VIRTQ_DESC_F_INDIRECT, 0);
      rig.drv.writeDesc(1, 0, table, 32, V.VIRTQ_DESC_F_INDIRECT, 0);
    }, /cannot nest/],
    ['a loop inside an indirect table', (rig) => {
      const table = rig.ram.alloc(32);
      const buf = rig.ram.alloc(8);
      writeTableEntry(rig.ram, table, 0, buf, 4, V.VIRTQ_DESC_F_NEXT, 1);
      writeTableEntry(rig.ram, table, 1, buf, 4, V.VIRTQ_DESC_F_NEXT, 0);
      rig.drv.writeDesc(1, 0, table, 32, V.VIRTQ_DESC_F_INDIRECT, 0);
    }, /indirect descriptor chain from 0 is longer than its table of 2/],
    ['an indirect next index outside its table', (rig) => {
      const table = rig.ram.alloc(32);
      writeTableEntry(rig.ram, table, 0, rig.ram.alloc(8), 4, V.VIRTQ_DESC_F_NEXT, 5);
      rig.drv.writeDesc(1, 0, table, 32, V.VIRTQ_DESC_F_INDIRECT, 0);
    }, /indirect descriptor index 5 is outside the table of 2/],
    ['a next index outside the table', (rig) => rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 4, V.VIRTQ_DESC_F_NEXT, 8), /outside the table/],
    ['a readable descriptor after a writable one', (rig) => {
      rig.drv.writeDesc(1, 0, rig.ram.base + 0x100n, 4, V.VIRTQ_DESC_F_WRITE | V.VIRTQ_DESC_F_NEXT, 1);
      rig.drv.writeDesc(1, 1, rig.ram.base + 0x200n, 4, 0, 0);
    }, /follows a device-writable/],
  ];
  for (const [name, build, pattern, indirect] of chainCases) {
    it(`rejects ${name}`, () => {
      const rig = consoleRig(indirect ?? true);
      rig.drv.init([8, 8]);
      build(rig);
      rig.drv.makeAvailable(1, 0);
      rig.drv.notify(1);
      expectNeedsReset(rig, pattern);
      expect(rig.drv.takeUsed(1)).toEqual([]);
    });
  }

  it('rejects an avail ring head outside the table and avail.idx running ahead by more than the size', () => {
    const rig = consoleRig();
    rig.drv.init([8, 8]);
    rig.drv.makeAvailable(1, 200);
    rig.drv.notify(1);
    expectNeedsReset(rig, /outside the table/);

    const rig2 = consoleRig();
    rig2.drv.init([8, 8]);
    rig2.ram.setU16(rig2.drv.queues[1]!.avail + 2n, 9);
    rig2.drv.notify(1);
    expectNeedsReset(rig2, /more than the queue size/);
  });

  const queueCases: [string, number, (ram: FakeRam) => { desc: bigint; avail: bigint; used: bigint } | undefined, RegExp][] = [
    ['size 0', 0, () => undefined, /not a power of two/],
    ['size 3', 3, () => undefined, /not a power of two/],
    ['size above QueueNumMax', 512, () => undefined, /not a power of two in 1\.\.256/],
    ['a misaligned descriptor table', 8, (ram) => ({ desc: ram.base + 0x808n, avail: ram.base + 0x1000n, used: ram.base + 0x2000n }), /16-byte aligned/],
    ['a misaligned used ring', 8, (ram) => ({ desc: ram.base + 0x800n, avail: ram.base + 0x1000n, used: ram.base + 0x2002n }), /4-byte aligned/],
    ['a used ring past the end of RAM', 8, (ram) => ({ desc: ram.base + 0x800n, avail: ram.base + 0x1000n, used: ram.base + BigInt(ram.size) - 8n }), /outside guest RAM/],
    ['rings below RAM', 8, () => ({ desc: 0n, avail: 0x100n, used: 0x200n }), /outside guest RAM/],
  ];
  for (const [name, size, addrs, pattern] of queueCases) {
    it(`refuses QueueReady with ${name}`, () => {
      const rig = consoleRig();
      rig.drv.negotiate();
      rig.drv.setupQueue(0, size, addrs(rig.ram));
      expect(rig.drv.r(V.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
      expectNeedsReset(rig, pattern);
    });
  }

  it('random register traffic never throws', () => {
    const rig = consoleRig();
    rig.drv.init([8, 8]);
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
    const sizes = [1, 2, 4, 8] as const;
    for (let i = 0; i < 5000; i++) {
      const off = rnd() % 0x200;
      const size = sizes[rnd() % 4]!;
      if (rnd() & 1) expect(() => rig.t.read(off, size)).not.toThrow();
      else expect(() => rig.t.write(off, size, BigInt(rnd()) << 16n | BigInt(rnd() & 0xffff))).not.toThrow();
    }
  });
});

describe('virtio-rng', () => {
  it('fills writable buffers from the injected source', () => {
    const ram = new FakeRam();
    let counter = 0;
    const dev = new VirtioRng({ source: (b) => { for (let i = 0; i < b.length; i++) b[i] = (counter++) & 0xff; } });
    const t = new VirtioMmioTransport(dev, { memory: ram, irqNumber: 4 });
    const drv = new TestDriver(t, ram);
    expect(drv.r(V.VIRTIO_MMIO_DEVICE_ID)).toBe(V.VIRTIO_ID_RNG);
    drv.init([8]);
    const { head, addrs } = drv.submit(0, [{ writable: 5 }, { writable: 3 }]);
    expect(drv.takeUsed(0)).toEqual([{ id: head, len: 8 }]);
    expect([...ram.readBytes(addrs[0]!, 5), ...ram.readBytes(addrs[1]!, 3)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('uses crypto by default: two requests differ', () => {
    const ram = new FakeRam();
    const t = new VirtioMmioTransport(new VirtioRng(), { memory: ram, irqNumber: 4 });
    const drv = new TestDriver(t, ram);
    drv.init([8]);
    const a = drv.submit(0, [{ writable: 32 }]);
    const b = drv.submit(0, [{ writable: 32 }]);
    expect(drv.takeUsed(0).map((u) => u.len)).toEqual([32, 32]);
    expect(ram.readBytes(a.addrs[0]!, 32)).not.toEqual(ram.readBytes(b.addrs[0]!, 32));
  });
});

describe('virtqueue edge cases', () => {
  it('accepts a chain using every descriptor of the table (the loop bound is not off by one)', () => {
    const rig = consoleRig();
    rig.drv.init([8, 8]);
    const bufs = Array.from({ length: 8 }, (_, i) => ({ data: enc(String(i)) }));
    const { head } = rig.drv.submit(1, bufs);
    expect(rig.text()).toBe('01234567');
    expect(rig.drv.takeUsed(1)).toEqual([{ id: head, len: 0 }]);
    expect(rig.drv.needsReset()).toBe(false);
  });

  it('ring indices wrap at 2^16', () => {
    const rig = consoleRig();
    rig.drv.init([4, 4]);
    const snap = rig.t.snapshot();
    snap.queues[1] = { ...snap.queues[1]!, lastAvailIdx: 0xfffe, usedIdx: 0xfffe };
    rig.t.restore(snap);
    const q = rig.drv.queues[1]!;
    q.availIdx = 0xfffe;
    q.lastUsed = 0xfffe;
    rig.ram.setU16(q.used + 2n, 0xfffe);
    for (const s of ['a', 'b', 'c', 'd']) rig.drv.submit(1, [{ data: enc(s) }]);
    expect(rig.text()).toBe('abcd');
    expect(rig.drv.takeUsed(1)).toHaveLength(4);
    expect(rig.ram.u16(q.used + 2n)).toBe(2);
    expect(rig.drv.needsReset()).toBe(false);
  });

  it('a QueueNum the guest wrote but never made ready still snapshots and restores', () => {
    const rig = consoleRig();
    rig.drv.negotiate();
    rig.drv.w(V.VIRTIO_MMIO_QUEUE_SEL, 0);
    rig.drv.w(V.VIRTIO_MMIO_QUEUE_NUM, 0xffff_ffff);
    const snap = JSON.parse(JSON.stringify(rig.t.snapshot()));
    const again = consoleRig();
    again.t.restore(snap);
    expect(again.t.snapshot()).toEqual(snap);
    expect(() => again.t.restore({ ...snap, queues: [{ ...snap.queues[0], ready: true }, snap.queues[1]] })).toThrow(/ready queue/);
    expect(again.t.snapshot()).toEqual(snap); // a refused snapshot changes nothing
  });
});

describe('indirect descriptors (§2.7.5.3)', () => {
  it('follows an indirect table as one chain, mixing readable and writable in order', () => {
    const ram = new FakeRam();
    let n = 0;
    const t = new VirtioMmioTransport(new VirtioRng({ source: (b) => b.fill(++n) }), { memory: ram, irqNumber: 4 });
    const drv = new TestDriver(t, ram);
    drv.init([2]);
    // Three writable buffers through one ring slot: more buffers than the ring has entries.
    const table = ram.alloc(48);
    const bufs = [ram.alloc(4), ram.alloc(4), ram.alloc(4)];
    bufs.forEach((b, i) => writeTableEntry(ram, table, i, b, 4, V.VIRTQ_DESC_F_WRITE | (i < 2 ? V.VIRTQ_DESC_F_NEXT : 0), i + 1));
    drv.writeDesc(0, 0, table, 48, V.VIRTQ_DESC_F_INDIRECT, 0);
    drv.makeAvailable(0, 0);
    drv.notify(0);
    expect(drv.takeUsed(0)).toEqual([{ id: 0, len: 12 }]);
    expect(bufs.map((b) => ram.readBytes(b, 4)[3])).toEqual([1, 1, 1]);
    expect(drv.needsReset()).toBe(false);
  });

  it('is not followed when the driver did not accept the feature', () => {
    const rig = consoleRig();
    expect(rig.drv.negotiate(1n << 32n)).toBe(true);
    rig.drv.setupQueue(0, 8);
    rig.drv.setupQueue(1, 8);
    rig.drv.driverOk();
    const table = rig.ram.alloc(16);
    writeTableEntry(rig.ram, table, 0, rig.ram.alloc(4), 4, 0, 0);
    rig.drv.writeDesc(1, 0, table, 16, V.VIRTQ_DESC_F_INDIRECT, 0);
    rig.drv.makeAvailable(1, 0);
    rig.drv.notify(1);
    expect(rig.drv.needsReset()).toBe(true);
    expect(rig.t.lastError).toMatch(/not negotiated/);
  });
});
