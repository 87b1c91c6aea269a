// Bad arguments to the MMIO bus (lib/vmm/bus.ts), the device registry and every device constructor
// (lib/devices: Ns16550a, Plic, virtio-mmio transport, blk, console, rng), table-driven: TypeError
// for a wrong type, RangeError out of range, the message naming the argument and the value. A bad
// option is refused by the constructor, not left for the guest to trip over at its first register
// access. "Loses nothing": after the error the bus and registry hold exactly what they held, and the
// devices already mapped still answer through them.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EdgeFilteredIrqLine, RecordingIrqLine } from '../../lib/devices/irq.js';
import { Ns16550a } from '../../lib/devices/ns16550a.js';
import { Plic, PLIC_MAX_SOURCES } from '../../lib/devices/plic.js';
import { DeviceRegistry } from '../../lib/devices/registry.js';
import { VirtioBlk } from '../../lib/devices/virtio/blk.js';
import { VirtioConsole } from '../../lib/devices/virtio/console.js';
import type { VirtioDevice } from '../../lib/devices/virtio/device.js';
import { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import { VirtioRng } from '../../lib/devices/virtio/rng.js';
import * as V from '../../lib/devices/virtio/spec.js';
import { MmioBus, type AccessSize, type MmioDevice } from '../../lib/vmm/bus.js';
import { FakeRam, TestDriver } from './devices-virtio-driver.js';
import { expectThrows } from '../support/thrown.js';



/** A register file: offset → last value written, read back. */
function registers(): MmioDevice {
  const regs = new Map<number, bigint>();
  return {
    read: (offset: number, _size: AccessSize) => regs.get(offset) ?? 0n,
    write: (offset: number, _size: AccessSize, value: bigint) => { regs.set(offset, value); },
  };
}

describe('MmioBus.map', () => {
  const dev = registers();
  it.each([
    ['base as a string', () => ['s', '0x1000', 0x100, dev], TypeError, /s: MMIO base must be a number or bigint, got '0x1000'/],
    ['base NaN', () => ['n', NaN, 0x100, dev], RangeError, /n: MMIO base must be a non-negative integer, got NaN/],
    ['base -1', () => ['m', -1, 0x100, dev], RangeError, /m: MMIO base must be a non-negative integer, got -1/],
    ['base -1n', () => ['m', -1n, 0x100, dev], RangeError, /m: MMIO base must be a u64, got -1n/],
    ['base 1.5', () => ['f', 1.5, 0x100, dev], RangeError, /f: MMIO base must be a non-negative integer, got 1.5/],
    ['base 2^64', () => ['b', 1n << 64n, 0x100, dev], RangeError, /b: MMIO base must be a u64, got 18446744073709551616n/],
    ['base null', () => ['b', null, 0x100, dev], TypeError, /b: MMIO base must be a number or bigint, got null/],
    ['base past 2^53 as a number', () => ['b', 2 ** 60, 0x100, dev], RangeError, /b: MMIO base 1152921504606847000 is above 2\^53 - 1, .*pass a bigint/],
    ['size undefined', () => ['u', 0x1000n, undefined, dev], TypeError, /u: MMIO size must be a number or bigint, got undefined/],
    ['size Infinity', () => ['i', 0x1000n, Infinity, dev], RangeError, /i: MMIO size must be a non-negative integer, got Infinity/],
    ['size 0', () => ['z', 0x5000n, 0, dev], RangeError, /z: MMIO range size 0 must be positive/],
    ['a range wrapping past 2^64', () => ['w', 0xffff_ffff_ffff_f000n, 0x2000, dev], RangeError, /w: MMIO range \[0xfffffffffffff000, \+0x2000\) wraps past 2\^64/],
    ['device null', () => ['d', 0x5000n, 0x100, null], TypeError, /MmioBus.map: d: device must be an object with read\(\), write\(\), got null/],
    ['device without write()', () => ['d', 0x5000n, 0x100, { read: () => 0 }], TypeError, /d: device must be an object with read\(\), write\(\); its write is undefined/],
    ['name a number', () => [7, 0x5000n, 0x100, dev], TypeError, /MmioBus.map: name must be a string, got 7/],
    ['name empty', () => ['', 0x5000n, 0x100, dev], RangeError, /MmioBus.map: name must not be empty/],
    ['a name already mapped', () => ['a', 0x5000n, 0x100, dev], RangeError, /a: an MMIO range of that name is already mapped/],
    ['an overlap', () => ['o', 0x1800n, 0x1000, dev], RangeError, /o: MMIO range \[0x1800, 0x2800\) overlaps a \[0x1000, 0x2000\)/],
  ] as const)('%s; the bus is unchanged and its device still answers', (_what, args, cls, message) => {
    const bus = new MmioBus();
    const a = registers();
    bus.map('a', 0x1000n, 0x1000, a);
    bus.write(0x1008n, 4, 0x1234n);
    expectThrows(() => (bus.map as (...x: unknown[]) => unknown)(...args()), cls, message);
    expect(bus.list().map((r) => [r.name, r.base, r.size])).toEqual([['a', 0x1000n, 0x1000n]]);
    expect(bus.read(0x1008n, 4)).toBe(0x1234n);
    expect(bus.stats.unmappedReads).toBe(0);
  });

  it('a number base and size that are exact integers still map (up to 2^53 - 1)', () => {
    const bus = new MmioBus();
    const r = bus.map('hi', Number.MAX_SAFE_INTEGER - 0xfff, 0x1000, registers());
    expect(r.base).toBe(BigInt(Number.MAX_SAFE_INTEGER - 0xfff));
    expect(bus.map('top', 0xffff_ffff_ffff_f000n, 0x1000n, registers()).size).toBe(0x1000n);
  });
});

describe('MmioBus.read / write called directly', () => {
  it.each([
    ['read at a number address', (b: MmioBus) => b.read(0x1008 as never, 4), TypeError, /MmioBus.read: address must be a bigint, got 4104/],
    ['read of 3 bytes', (b: MmioBus) => b.read(0x1008n, 3 as never), RangeError, /MmioBus.read: size must be 1, 2, 4 or 8 bytes, got 3/],
    ['read of 16 bytes', (b: MmioBus) => b.read(0x1008n, 16 as never), RangeError, /size must be 1, 2, 4 or 8 bytes, got 16/],
    ['write at a string address', (b: MmioBus) => b.write('0x1008' as never, 4, 1n), TypeError, /MmioBus.write: address must be a bigint, got '0x1008'/],
    ['write of 0 bytes', (b: MmioBus) => b.write(0x1008n, 0 as never, 1n), RangeError, /MmioBus.write: size must be 1, 2, 4 or 8 bytes, got 0/],
    ['write of a number value', (b: MmioBus) => b.write(0x1008n, 4, 5 as never), TypeError, /MmioBus.write: value must be a bigint, got 5/],
  ] as const)('%s; nothing is counted or written', (_what, call, cls, message) => {
    const bus = new MmioBus();
    bus.map('a', 0x1000n, 0x1000, registers());
    bus.write(0x1008n, 4, 0x1234n);
    expectThrows(() => call(bus), cls, message);
    expect(bus.stats).toEqual({ unmappedReads: 0, unmappedWrites: 0 });
    expect(bus.read(0x1008n, 4)).toBe(0x1234n);
  });
});

describe('DeviceRegistry', () => {
  it.each([
    ['a bus of null', null, /DeviceRegistry: bus must be an object with map\(\), got null/],
    ['an array as the bus', [], /DeviceRegistry: bus must be an object with map\(\), got an array/],
  ] as const)('new DeviceRegistry(%s) is a TypeError', (_what, bus, message) => {
    expectThrows(() => new DeviceRegistry(bus as never), TypeError, message);
  });

  it.each([
    ['a plain MmioDevice (no writeFdtNode)', registers(), /DeviceRegistry.add: r: device must be an object with read\(\), write\(\), writeFdtNode\(\), snapshot\(\), restore\(\); its writeFdtNode is undefined/],
    ['undefined', undefined, /DeviceRegistry.add: r: device must be .*got undefined/],
  ] as const)('add() of %s is a TypeError; the registry and bus are unchanged', (_what, device, message) => {
    const bus = new MmioBus();
    const reg = new DeviceRegistry(bus);
    const out: number[] = [];
    reg.add('uart', 0x1000n, 0x100n, new Ns16550a({ irqNumber: 10, sink: (d) => out.push(...d) }));
    expectThrows(() => reg.add('r', 0x2000n, 0x100n, device as never), TypeError, message);
    expect(reg.list().map((e) => e.name)).toEqual(['uart']);
    expect(bus.list().map((r) => r.name)).toEqual(['uart']);
    bus.write(0x1000n, 1, 0x41n); // THR
    expect(out).toEqual([0x41]);
  });
});

describe('interrupt lines', () => {
  it.each([null, {}, { set: 1 }])('new EdgeFilteredIrqLine(%j) is a TypeError naming target', (target) => {
    expectThrows(() => new EdgeFilteredIrqLine(target as never), TypeError, /EdgeFilteredIrqLine: target must be an object with set\(\)/);
  });
});

describe('Ns16550a options', () => {
  it.each([
    ['no options', undefined, TypeError, /Ns16550a: options must be an object, got undefined/],
    ['null', null, TypeError, /Ns16550a: options must be an object, got null/],
    ['irqNumber missing', {}, TypeError, /Ns16550a: irqNumber must be a number \(a PLIC source\), got undefined/],
    ["irqNumber '10'", { irqNumber: '10' }, TypeError, /irqNumber must be a number .*got '10'/],
    ['irqNumber 0', { irqNumber: 0 }, RangeError, /Ns16550a: irqNumber 0 is not a PLIC source \(1\.\.1023\)/],
    ['irqNumber 1024', { irqNumber: PLIC_MAX_SOURCES + 1 }, RangeError, /irqNumber 1024 is not a PLIC source/],
    ['irqNumber 2.5', { irqNumber: 2.5 }, RangeError, /irqNumber 2.5 is not a PLIC source/],
    ['sink a string', { irqNumber: 10, sink: 'stdout' }, TypeError, /Ns16550a: sink must be a function, got 'stdout'/],
    ['sink null', { irqNumber: 10, sink: null }, TypeError, /Ns16550a: sink must be a function, got null/],
    ['irq a function', { irqNumber: 10, irq: () => {} }, TypeError, /Ns16550a: irq must be an object with set\(\), got a function/],
    ['irq without set()', { irqNumber: 10, irq: {} }, TypeError, /Ns16550a: irq must be an object with set\(\); its set is undefined/],
  ] as const)('%s', (_what, opts, cls, message) => {
    expectThrows(() => new Ns16550a(opts as never), cls, message);
  });

  it('a good UART transmits to its sink and raises its line', () => {
    const out: number[] = [];
    const irq = new RecordingIrqLine();
    const uart = new Ns16550a({ irqNumber: PLIC_MAX_SOURCES, sink: (d) => out.push(...d), irq });
    uart.write(1, 1, 0x02n); // IER.ETBEI: THR-empty interrupt (16550A datasheet, IER bit 1)
    uart.write(0, 1, 0x41n);
    expect(out).toEqual([0x41]);
    expect(irq.rises).toBe(1);
  });
});

describe('Plic options', () => {
  const line = new RecordingIrqLine();
  it.each([
    ['no options', undefined, TypeError, /Plic: options must be an object, got undefined/],
    ['ndev missing', { hartLines: [line] }, TypeError, /Plic: ndev must be a number, got undefined/],
    ["ndev '32'", { ndev: '32', hartLines: [line] }, TypeError, /Plic: ndev must be a number, got '32'/],
    ['ndev 0', { ndev: 0, hartLines: [line] }, RangeError, /ndev 0 is not 1\.\.1023/],
    ['ndev 1024', { ndev: 1024, hartLines: [line] }, RangeError, /ndev 1024 is not 1\.\.1023/],
    ['hartLines missing', { ndev: 32 }, TypeError, /Plic: hartLines must be an array of IrqLine, got undefined/],
    ['hartLines one line, not an array', { ndev: 32, hartLines: line }, TypeError, /hartLines must be an array of IrqLine, got an object \(Object\)/],
    ['hartLines[1] null', { ndev: 32, hartLines: [line, null] }, TypeError, /Plic: hartLines\[1\] must be an object with set\(\), got null/],
    ['no harts', { ndev: 32, hartLines: [] }, RangeError, /a PLIC needs at least one hart/],
  ] as const)('%s', (_what, opts, cls, message) => {
    expectThrows(() => new Plic(opts as never), cls, message);
  });
});

describe('virtio device options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-bad-devices-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['VirtioRng(null)', () => new VirtioRng(null as never), TypeError, /VirtioRng: options must be an object, got null/],
    ["VirtioRng('urandom')", () => new VirtioRng('urandom' as never), TypeError, /VirtioRng: options must be an object, got 'urandom'/],
    ['VirtioRng({ source: null })', () => new VirtioRng({ source: null as never }), TypeError, /VirtioRng: source must be a function, got null/],
    ["VirtioRng({ source: '/dev/urandom' })", () => new VirtioRng({ source: '/dev/urandom' as never }), TypeError, /source must be a function, got '\/dev\/urandom'/],
    ['VirtioConsole(null)', () => new VirtioConsole(null as never), TypeError, /VirtioConsole: options must be an object, got null/],
    ['VirtioConsole({ sink: process.stdout })', () => new VirtioConsole({ sink: process.stdout as never }), TypeError, /VirtioConsole: sink must be a function, got an object/],
    ['VirtioConsole({ sink: 1 })', () => new VirtioConsole({ sink: 1 as never }), TypeError, /sink must be a function, got 1/],
    ['VirtioBlk()', () => new VirtioBlk(undefined as never), TypeError, /VirtioBlk: options must be an object, got undefined/],
    ["VirtioBlk({ fd: 'disk.img' })", () => new VirtioBlk({ fd: 'disk.img' as never }), TypeError, /VirtioBlk: fd must be a number \(an open file descriptor\), got 'disk.img'/],
    ['VirtioBlk({ fd: -1 })', () => new VirtioBlk({ fd: -1 }), RangeError, /fd -1 is not a file descriptor/],
    ["VirtioBlk({ readOnly: 'yes' })", () => new VirtioBlk({ fd: 0, readOnly: 'yes' as never, sizeBytes: 512 }), TypeError, /VirtioBlk: readOnly must be a boolean, got 'yes'/],
    ['VirtioBlk({ serial: 7 })', () => new VirtioBlk({ fd: 0, serial: 7 as never, sizeBytes: 512 }), TypeError, /VirtioBlk: serial must be a string, got 7/],
    ['VirtioBlk({ serial: 21 bytes })', () => new VirtioBlk({ fd: 0, serial: 'x'.repeat(21), sizeBytes: 512 }), RangeError, /serial 'x{21}' is longer than 20 bytes/],
    ["VirtioBlk({ sizeBytes: '1M' })", () => new VirtioBlk({ fd: 0, sizeBytes: '1M' as never }), TypeError, /VirtioBlk: sizeBytes must be a number of bytes, got '1M'/],
    ['VirtioBlk({ sizeBytes: -512 })', () => new VirtioBlk({ fd: 0, sizeBytes: -512 }), RangeError, /disk size -512 is not a byte count/],
  ] as const)('%s', (_what, make, cls, message) => {
    expectThrows(make, cls, message);
  });

  it('missing source or sink keeps the documented defaults: crypto randomness, output dropped', () => {
    const ram = new FakeRam();
    const rng = new VirtioMmioTransport(new VirtioRng({}), { memory: ram, irqNumber: 4 });
    const d = new TestDriver(rng, ram);
    d.init([8]);
    const { head, addrs } = d.submit(0, [{ writable: 64 }]);
    expect(d.takeUsed(0)).toEqual([{ id: head, len: 64 }]);
    // 64 random bytes are all zero with probability 2^-512: the default source did fill them.
    expect(ram.readBytes(addrs[0]!, 64).some((b) => b !== 0)).toBe(true);
    expect(() => new VirtioConsole({})).not.toThrow();
    expect(() => new VirtioConsole({ sink: undefined })).not.toThrow();
  });

  it('a good block device still opens after the refusals', () => {
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(4096));
    const fd = openSync(path, 'r');
    try {
      expect(new VirtioBlk({ fd, readOnly: true }).capacity).toBe(8n);
    } finally {
      closeSync(fd);
    }
  });
});

describe('VirtioMmioTransport(device, options)', () => {
  const ram = new FakeRam();
  const rng = (): VirtioDevice => new VirtioRng({ source: (b) => b.fill(7) });
  it.each([
    ['device null', () => new VirtioMmioTransport(null as never, { memory: ram, irqNumber: 4 }), TypeError, /VirtioMmioTransport: device must be an object with readConfig\(\).*got null/],
    ['device without queueNotify()', () => new VirtioMmioTransport({ ...rng(), queueNotify: undefined } as never, { memory: ram, irqNumber: 4 }), TypeError, /device must be an object .*; its readConfig is undefined|its queueNotify is undefined/],
    ['device.queueMaxSizes a number', () => new VirtioMmioTransport(Object.assign(rng(), { queueMaxSizes: 64 }) as never, { memory: ram, irqNumber: 4 }), TypeError, /device.queueMaxSizes must be an array, got 64/],
    ['device.features a number', () => new VirtioMmioTransport(Object.assign(rng(), { features: 0 }) as never, { memory: ram, irqNumber: 4 }), TypeError, /device.features must be a bigint, got 0/],
    ['options missing', () => new VirtioMmioTransport(rng(), undefined as never), TypeError, /VirtioMmioTransport: options must be an object, got undefined/],
    ['memory missing', () => new VirtioMmioTransport(rng(), { irqNumber: 4 } as never), TypeError, /VirtioMmioTransport: memory must be an object with contains\(\), readBytes\(\), writeBytes\(\), got undefined/],
    ['memory an ArrayBuffer', () => new VirtioMmioTransport(rng(), { memory: new ArrayBuffer(16), irqNumber: 4 } as never), TypeError, /memory must be .*; its contains is undefined/],
    ['irqNumber missing', () => new VirtioMmioTransport(rng(), { memory: ram } as never), TypeError, /VirtioMmioTransport: irqNumber must be a number \(a PLIC source\), got undefined/],
    ['irqNumber 0', () => new VirtioMmioTransport(rng(), { memory: ram, irqNumber: 0 }), RangeError, /VirtioMmioTransport: irqNumber 0 is not a PLIC source/],
    ['irq null', () => new VirtioMmioTransport(rng(), { memory: ram, irqNumber: 4, irq: null as never }), TypeError, /VirtioMmioTransport: irq must be an object with set\(\), got null/],
    ["indirectDescriptors 'no'", () => new VirtioMmioTransport(rng(), { memory: ram, irqNumber: 4, indirectDescriptors: 'no' as never }), TypeError, /indirectDescriptors must be a boolean, got 'no'/],
    ['onDeviceError a string', () => new VirtioMmioTransport(rng(), { memory: ram, irqNumber: 4, onDeviceError: 'log' as never }), TypeError, /onDeviceError must be a function, got 'log'/],
  ] as const)('%s', (_what, make, cls, message) => {
    expectThrows(make, cls, message);
  });

  it('a good transport answers the guest (magic, version, device id)', () => {
    const t = new VirtioMmioTransport(rng(), { memory: ram, irqNumber: 4, irq: new RecordingIrqLine(), indirectDescriptors: false, onDeviceError: () => {} });
    expect(t.read(V.VIRTIO_MMIO_MAGIC_VALUE, 4)).toBe(V.VIRTIO_MMIO_MAGIC);
    expect(t.read(V.VIRTIO_MMIO_VERSION, 4)).toBe(2);
    expect(t.read(V.VIRTIO_MMIO_DEVICE_ID, 4)).toBe(V.VIRTIO_ID_RNG);
  });
});
