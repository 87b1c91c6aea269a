/**
 * Fuzz target "devices": the MMIO bus (lib/vmm/bus.ts) with the board's devices mapped where QEMU
 * virt puts them (lib/boot/layout.ts): PLIC, the 16550A UART and virtio-mmio transports with the
 * rng, console and block devices behind them. Guest RAM is a real emulator VM slot, as the
 * machine hands it to virtio for DMA.
 *
 * A case is a list of guest actions: MMIO accesses of any size at any offset (aligned or not,
 * inside, straddling or outside a device), raw writes of guest RAM, a virtio driver's queue setup
 * (virtio v1.2 §3.1.1, §4.2.3.2) with arbitrary sizes and ring addresses (unaligned, outside RAM,
 * near 2^64), descriptor tables with loops, out-of-range `next`, INDIRECT, huge lengths and buffers
 * outside RAM, avail.idx jumps, notifications, PLIC source levels and host UART input.
 *
 * Invariants: no access throws; every device read returns a non-negative value that fits the
 * access size (checked below the bus, which would otherwise truncate a bad value silently);
 * interrupt lines only ever carry booleans.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { GuestMemory, SystemEventType, VcpuExit, Vm } from '../../lib/backend/types.js';
import { dispatchExit, newExitCounters } from '../../lib/vmm/dispatch.js';
import { GuestAddressSpace } from '../../lib/sbi/guest-memory.js';
import { SbiRegistry } from '../../lib/sbi/registry.js';
import { MEMMAP, PLIC_NUM_SOURCES, UART0_IRQ, virtioMmioBase } from '../../lib/boot/layout.js';
import { Ns16550a } from '../../lib/devices/ns16550a.js';
import { Plic } from '../../lib/devices/plic.js';
import type { IrqLine } from '../../lib/devices/irq.js';
import { MmioBus, type AccessSize, type MmioDevice } from '../../lib/vmm/bus.js';
import { check, type FuzzTarget } from '../harness.js';
import type { Rng } from '../rng.js';
import { createVirtioDevices, VIRTIO_REGISTERS, type VirtioUnderTest } from './virtio-devices.js';

export type DeviceOp =
  | { op: 'access'; address: bigint; size: AccessSize; write: boolean; value: bigint }
  | { op: 'ram'; offset: number; bytes: number[] }
  | { op: 'queue'; dev: number; queue: number; size: number; desc: bigint; avail: bigint; used: bigint; status: number[]; features: number[] }
  | { op: 'descs'; offset: number; entries: { addr: bigint; len: number; flags: number; next: number }[] }
  | { op: 'avail'; offset: number; flags: number; idx: number; ring: number[] }
  | { op: 'notify'; dev: number; queue: number }
  | { op: 'irq'; source: number; level: boolean }
  | { op: 'uart-input'; count: number }
  /** A virtio-blk request header (§5.2.6: type u32, reserved u32, sector u64) in guest RAM. */
  | { op: 'blk-header'; offset: number; type: number; sector: bigint }
  /** A backend exit handed to the VMM's dispatcher (lib/vmm/dispatch.ts) with this board's bus. */
  | { op: 'exit'; exit: VcpuExit };

const RAM_BASE = MEMMAP.dram.base;
const RAM_SIZE = 64 * 1024;
const SIZES: readonly AccessSize[] = [1, 2, 4, 8];
/** Where a planted extra device goes (the harness self-test). */
export const EXTRA_DEVICE_BASE = 0x1010_0000n;
const VIRTIO_COUNT = 3;
/** The ring layout most 'queue' ops use, so that 'descs' and 'avail' ops fill the rings in use. */
const DESC_AT = 0x0000n;
const AVAIL_AT = 0x1000n;
const USED_AT = 0x2000n;
const BLK_HEADER_AT = 0x8000;
const DISK_SIZE = 64 * 1024;

export interface DevicesTargetOptions {
  /** An extra device mapped at EXTRA_DEVICE_BASE (0x1000 bytes): the self-test plants a broken one. */
  extraDevice?: () => MmioDevice;
}

/** Wraps a device so every value it returns is checked before the bus truncates it. */
function checked(name: string, d: MmioDevice): MmioDevice {
  return {
    read(offset, size) {
      const v = d.read(offset, size);
      const ok = typeof v === 'bigint' ? v >= 0n && v < 1n << BigInt(8 * size) : Number.isInteger(v) && v >= 0 && v < 2 ** (8 * size);
      check(ok, () => `${name}: read(0x${offset.toString(16)}, ${size}) returned ${String(v)}, not a ${size}-byte value`);
      return v;
    },
    write: (offset, size, value) => d.write(offset, size, value),
  };
}

const booleanLine = (name: string): IrqLine => ({
  set(level) { check(typeof level === 'boolean', `${name}: irq level ${String(level)} is not a boolean`); },
});

export function createDevicesTarget(opts: DevicesTargetOptions = {}): FuzzTarget<DeviceOp> {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-fuzz-'));
  const diskPath = join(dir, 'disk.img');
  writeFileSync(diskPath, new Uint8Array(DISK_SIZE));
  const diskFd = openSync(diskPath, 'r+');
  let vm: Vm | undefined;

  interface Board { bus: MmioBus; ram: GuestMemory; plic: Plic; uart: Ns16550a; virtio: VirtioUnderTest[] }

  /** A fresh board per case, so a case replays alone. */
  const build = (): Board => {
    vm?.close();
    vm = createEmulator().createVm();
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE });
    const bus = new MmioBus();
    const plic = new Plic({ ndev: PLIC_NUM_SOURCES, hartLines: [booleanLine('hart 0'), booleanLine('hart 1')] });
    const uart = new Ns16550a({ irqNumber: UART0_IRQ, irq: plic.irqLine(UART0_IRQ) });
    bus.map('plic', MEMMAP.plic.base, MEMMAP.plic.size, checked('plic', plic));
    bus.map('uart0', MEMMAP.uart0.base, MEMMAP.uart0.size, checked('uart0', uart));
    const virtio = createVirtioDevices(ram, diskFd, (i) => plic.irqLine(i));
    virtio.slice(0, VIRTIO_COUNT).forEach((v, i) => bus.map(`virtio${i}`, virtioMmioBase(i), 0x1000, checked(`virtio${i} (${v.kind})`, v.device)));
    if (opts.extraDevice) bus.map('extra', EXTRA_DEVICE_BASE, 0x1000, checked('extra', opts.extraDevice()));
    return { bus, ram, plic, uart, virtio };
  };

  const bases = [MEMMAP.plic.base, MEMMAP.uart0.base, ...Array.from({ length: VIRTIO_COUNT }, (_, i) => virtioMmioBase(i)), ...(opts.extraDevice ? [EXTRA_DEVICE_BASE] : [])];
  /** Ring and table addresses come mostly from a few page slots shared by 'queue', 'descs' and
   * 'avail' ops, so the rings a case sets up are the ones it fills. */
  const slot = (rng: Rng): number => 0x1000 * rng.below(8);
  const ramAddr = (rng: Rng): bigint => {
    if (rng.chance(0.7)) return RAM_BASE + BigInt(slot(rng));
    if (rng.chance(0.5)) return RAM_BASE + BigInt(rng.below(RAM_SIZE / 16) * 16);
    return rng.interestingU64([RAM_BASE, RAM_BASE + BigInt(RAM_SIZE), 1n << 32n]);
  };

  const randomAccess = (rng: Rng): DeviceOp => {
    const base = rng.pick(bases);
    let offset: bigint;
    switch (rng.below(6)) {
      case 0: offset = BigInt(rng.pick(VIRTIO_REGISTERS)); break;
      case 1: offset = BigInt(rng.below(8)); break; // UART registers
      case 2: offset = BigInt(rng.pick([0, 4 * rng.below(96), 0x1000 + 4 * rng.below(4), 0x2000 + 0x80 * rng.below(4) + 4 * rng.below(4), 0x20_0000 + 0x1000 * rng.below(4) + 4 * rng.below(2)])); break;
      case 3: offset = BigInt(0x100 + rng.below(0x40)); break; // virtio config space
      case 4: offset = BigInt(rng.range(-8, 0x2000)); break;
      default: offset = rng.interestingU64() - base; break;
    }
    const value = rng.chance(0.5) ? BigInt(rng.pick([0, 1, 2, 3, 4, 7, 8, 0xf, 0xff, 0x80, 0x8000_0000])) : rng.u64();
    return { op: 'access', address: BigInt.asUintN(64, base + offset), size: rng.pick(SIZES), write: rng.chance(0.6), value };
  };

  return {
    name: 'devices',
    description: 'MMIO bus with PLIC, UART and virtio-mmio (rng, console, blk): registers, rings, descriptors',
    generate(rng) {
      const ops: DeviceOp[] = [];
      if (rng.chance(0.6)) {
        // Most cases start from a driver that did everything right once, so the random operations
        // that follow reach descriptor walking and the devices' request handling.
        const dev = rng.below(VIRTIO_COUNT);
        const size = rng.pick([4, 8, 16]);
        ops.push({ op: 'queue', dev, queue: dev === 1 ? rng.below(2) : 0, size, desc: RAM_BASE + DESC_AT, avail: RAM_BASE + AVAIL_AT, used: RAM_BASE + USED_AT, status: [1, 3, 11, 15], features: [0, 1] });
        const count = rng.range(1, size);
        if (dev === 2 && rng.chance(0.7)) {
          // A block request shaped as §5.2.6 wants it: header, data, status byte; the header's type
          // and sector and the data length are where the range checks live.
          const isIn = rng.chance(0.5);
          ops.push({ op: 'blk-header', offset: BLK_HEADER_AT, type: rng.pick([0, 1, 4, 8, 8, rng.u32()]), sector: rng.pick([0n, 1n, 127n, 128n, 129n, (1n << 55n) - 1n, 1n << 55n, (1n << 64n) - 1n, (1n << 64n) - 2n, rng.u64()]) });
          ops.push({ op: 'descs', offset: Number(DESC_AT), entries: [
            { addr: RAM_BASE + BigInt(BLK_HEADER_AT), len: rng.chance(0.9) ? 16 : rng.below(32), flags: 1, next: 1 },
            { addr: RAM_BASE + 0x9000n, len: rng.pick([512, 1024, 511, 513, 0x800, 0]), flags: 1 | (isIn ? 2 : 0), next: 2 },
            { addr: RAM_BASE + 0xa000n, len: rng.chance(0.9) ? 1 : rng.below(4), flags: 2, next: 0 },
          ] });
          ops.push({ op: 'avail', offset: Number(AVAIL_AT), flags: 0, idx: 1, ring: [0] });
          ops.push({ op: 'notify', dev, queue: 0 });
        } else {
          ops.push({
            op: 'descs', offset: Number(DESC_AT),
            entries: Array.from({ length: count }, (_, i) => ({
              addr: RAM_BASE + BigInt(0x8000 + 0x800 * rng.below(16)),
              len: rng.pick([1, 16, 17, 512, 1024, 0x800]),
              flags: (i + 1 < count && rng.chance(0.5) ? 1 : 0) | (rng.chance(0.5) ? 2 : 0),
              next: i + 1,
            })),
          });
          ops.push({ op: 'avail', offset: Number(AVAIL_AT), flags: 0, idx: rng.range(1, 3), ring: Array.from({ length: 3 }, () => rng.below(count)) });
          ops.push({ op: 'notify', dev, queue: dev === 1 ? rng.below(2) : 0 });
        }
      }
      const n = rng.range(1, 24);
      for (let i = 0; i < n; i++) {
        const dev = rng.below(VIRTIO_COUNT);
        switch (rng.below(9)) {
          case 0: case 1: case 2: ops.push(randomAccess(rng)); break;
          case 3: ops.push({ op: 'ram', offset: rng.below(RAM_SIZE - 64), bytes: Array.from(rng.bytes(rng.range(1, 64))) }); break;
          case 4:
            ops.push({
              op: 'queue', dev, queue: rng.chance(0.9) ? rng.below(2) : rng.u32(),
              size: rng.chance(0.7) ? rng.pick([1, 2, 4, 8, 16]) : rng.pick([0, 3, 255, 256, 257, 0x8000, 0xffff, rng.u32()]),
              desc: rng.chance(0.7) ? RAM_BASE + DESC_AT : ramAddr(rng),
              avail: rng.chance(0.7) ? RAM_BASE + AVAIL_AT : ramAddr(rng),
              used: rng.chance(0.7) ? RAM_BASE + USED_AT : ramAddr(rng),
              status: rng.chance(0.8) ? [1, 3, 11, 15] : Array.from({ length: rng.range(1, 4) }, () => rng.below(256)),
              features: [rng.chance(0.8) ? rng.pick([0, 1 << 9, 1 << 5]) : rng.u32(), rng.chance(0.8) ? 1 : rng.u32()],
            });
            break;
          case 5: {
            const count = rng.range(1, 16);
            ops.push({
              op: 'descs', offset: rng.chance(0.7) ? Number(DESC_AT) : rng.chance(0.5) ? slot(rng) : rng.below(RAM_SIZE / 16) * 16,
              entries: Array.from({ length: count }, () => ({
                addr: rng.chance(0.8) ? RAM_BASE + BigInt(0x8000 + rng.below(0x8000)) : ramAddr(rng),
                len: rng.chance(0.8) ? rng.pick([0, 1, 16, 17, 512, 4096]) : rng.pick([rng.u32(), 0xffff_ffff, RAM_SIZE]),
                flags: rng.chance(0.8) ? rng.below(4) : rng.below(0x10000),
                next: rng.chance(0.8) ? rng.below(count + 1) : rng.below(0x10000),
              })),
            });
            break;
          }
          case 6: ops.push({ op: 'avail', offset: rng.chance(0.7) ? Number(AVAIL_AT) : rng.chance(0.5) ? slot(rng) : rng.below(RAM_SIZE / 2) * 2, flags: rng.below(2), idx: rng.chance(0.7) ? rng.below(8) : rng.below(0x10000), ring: Array.from({ length: rng.range(1, 8) }, () => (rng.chance(0.8) ? rng.below(16) : rng.below(0x10000))) }); break;
          case 7: ops.push({ op: 'notify', dev, queue: rng.chance(0.9) ? rng.below(2) : rng.u32() }); break;
          case 8:
            if (rng.chance(0.5)) { ops.push({ op: 'exit', exit: randomExit(rng, bases) }); break; }
            if (rng.chance(0.5)) ops.push({ op: 'irq', source: rng.range(0, PLIC_NUM_SOURCES + 2), level: rng.chance(0.5) });
            else ops.push({ op: 'uart-input', count: rng.range(0, 40) });
        }
      }
      return ops;
    },
    execute(ops) {
      const board = build();
      const { bus, ram, plic } = board;
      const w32 = (base: bigint, reg: number, value: number): void => bus.write(base + BigInt(reg), 4, BigInt(value >>> 0));
      for (const o of ops) {
        switch (o.op) {
          case 'access':
            if (o.write) bus.write(o.address, o.size, o.value);
            else check(bus.read(o.address, o.size) < 1n << BigInt(8 * o.size), 'bus read wider than the access');
            break;
          case 'ram':
            ram.writeBytes(RAM_BASE + BigInt(o.offset), Uint8Array.from(o.bytes));
            break;
          case 'queue': {
            // The driver side of §3.1.1 and §4.2.3.2, with whatever values the case drew.
            const base = virtioMmioBase(o.dev);
            w32(base, 0x070, 0);
            for (const s of o.status.slice(0, 2)) w32(base, 0x070, s);
            w32(base, 0x024, 0); w32(base, 0x020, o.features[0]!);
            w32(base, 0x024, 1); w32(base, 0x020, o.features[1]!);
            for (const s of o.status.slice(2, 3)) w32(base, 0x070, s);
            w32(base, 0x030, o.queue);
            w32(base, 0x038, o.size);
            w32(base, 0x080, Number(o.desc & 0xffff_ffffn)); w32(base, 0x084, Number(o.desc >> 32n));
            w32(base, 0x090, Number(o.avail & 0xffff_ffffn)); w32(base, 0x094, Number(o.avail >> 32n));
            w32(base, 0x0a0, Number(o.used & 0xffff_ffffn)); w32(base, 0x0a4, Number(o.used >> 32n));
            w32(base, 0x044, 1);
            for (const s of o.status.slice(3)) w32(base, 0x070, s);
            break;
          }
          case 'descs':
            o.entries.forEach((e, i) => {
              const at = RAM_BASE + BigInt(o.offset + 16 * i);
              if (!ram.contains(at, 16)) return;
              ram.write64(at, BigInt.asUintN(64, e.addr));
              ram.write32(at + 8n, e.len >>> 0);
              ram.write16(at + 12n, e.flags & 0xffff);
              ram.write16(at + 14n, e.next & 0xffff);
            });
            break;
          case 'avail': {
            const at = RAM_BASE + BigInt(o.offset);
            if (!ram.contains(at, 4 + 2 * o.ring.length)) break;
            ram.write16(at, o.flags);
            ram.write16(at + 2n, o.idx);
            o.ring.forEach((r, i) => ram.write16(at + 4n + BigInt(2 * i), r));
            break;
          }
          case 'notify':
            w32(virtioMmioBase(o.dev), 0x050, o.queue);
            break;
          case 'irq':
            if (o.source >= 1 && o.source <= PLIC_NUM_SOURCES) plic.setSource(o.source, o.level);
            break;
          case 'exit': {
            const state = { hartId: 0, sbi: new SbiRegistry(), sbiContext: { memory: new GuestAddressSpace(() => vm!.memoryRegions()) }, bus, counters: newExitCounters() };
            const outcome = dispatchExit(o.exit, state);
            check(!(outcome instanceof Promise), 'a non-SBI exit was dispatched asynchronously');
            if (outcome instanceof Promise) break;
            const e = o.exit;
            if (e.reason === 'mmio') {
              check(outcome.action === 'resume', () => `an MMIO exit stopped the vCPU: ${outcome.action === 'stop' ? outcome.stop.kind : ''}`);
              if (outcome.action === 'resume' && outcome.completion.kind === 'mmio_load') {
                check(!e.isWrite && outcome.completion.value >= 0n && outcome.completion.value < 1n << BigInt(8 * e.length), `MMIO load completion 0x${outcome.completion.value.toString(16)} does not fit ${e.length} bytes`);
              } else {
                check(e.isWrite, 'an MMIO load did not complete with a value');
              }
            } else if (e.reason === 'csr') {
              check(outcome.action === 'resume' && outcome.completion.kind === 'csr', 'a CSR exit did not resume with a CSR value');
            } else if (e.reason === 'system_event') {
              check(outcome.action === 'stop', 'a system event did not stop the vCPU');
              if (outcome.action === 'stop' && (e.type === 'shutdown' || e.type === 'reset')) {
                check(outcome.stop.kind === e.type && 'reason' in outcome.stop && outcome.stop.reason === (e.data[0] ?? 0n), `SRST ${e.type} stop does not carry data[0]`);
              }
            } else {
              check(outcome.action === 'stop', `a '${e.reason}' exit did not stop the vCPU`);
            }
            break;
          }
          case 'blk-header': {
            const at = RAM_BASE + BigInt(o.offset);
            ram.write32(at, o.type >>> 0);
            ram.write32(at + 4n, 0);
            ram.write64(at + 8n, BigInt.asUintN(64, o.sector));
            break;
          }
          case 'uart-input':
            board.uart.input(Array.from({ length: o.count }, (_, i) => 0x30 + (i % 10)));
            board.virtio.find((v) => v.kind === 'console')?.input?.(new Uint8Array(o.count).fill(0x61));
            break;
        }
      }
      // virtio-blk checks every request against the capacity: the image never grows.
      check(fstatSync(diskFd).size === DISK_SIZE, () => `the disk image grew to ${fstatSync(diskFd).size} bytes`);
    },
    caseTimeoutMs: 3000,
    dispose() {
      vm?.close();
      closeSync(diskFd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const EVENT_TYPES: readonly SystemEventType[] = ['shutdown', 'reset', 'crash', 'wakeup', 'suspend', 'unknown'];

/** An exit as a backend could deliver it, with guest-chosen addresses, sizes and data. */
function randomExit(rng: Rng, bases: readonly bigint[]): VcpuExit {
  switch (rng.below(8)) {
    case 0: case 1: case 2: case 3: {
      const length = rng.pick(SIZES);
      const address = rng.chance(0.7) ? rng.pick(bases) + BigInt(rng.below(0x200)) : rng.interestingU64(bases);
      const isWrite = rng.chance(0.5);
      // A well-formed exit carries `length` bytes; a short or long buffer must not matter either.
      const data = rng.bytes(rng.chance(0.9) ? length : rng.below(10));
      return { reason: 'mmio', address: BigInt.asUintN(64, address), length, isWrite, data: isWrite ? data : new Uint8Array(length) };
    }
    case 4: return { reason: 'csr', csrNum: rng.below(0x1000), newValue: rng.u64(), writeMask: rng.u64() };
    case 5: {
      const type = rng.pick(EVENT_TYPES);
      return { reason: 'system_event', type, typeCode: rng.below(10), data: rng.chance(0.8) ? [rng.u64()] : [] };
    }
    case 6: return { reason: 'internal_error', suberror: rng.u32(), data: [rng.u64()] };
    default: return rng.chance(0.5) ? { reason: 'unsupported', exitReason: rng.u32() } : { reason: 'fail_entry', hardwareEntryFailureReason: rng.u64(), cpu: rng.below(8) };
  }
}
