/**
 * The board: the devices of one boot of a machine, registered (lib/devices/registry.ts) on a fresh
 * MMIO bus at the addresses of the memory map (lib/boot/layout.ts MEMMAP, QEMU virt), with their
 * interrupt wiring and their device-tree nodes. A reboot builds a new board (fresh device state, as
 * a reset line would give); host resources that outlive a boot (open disk files) belong to the
 * machine.
 *
 * Wiring (QEMU virt, hw/riscv/virt.c): the PLIC's S-mode context of hart h drives that vCPU's
 * external-interrupt line (vcpu.setExternalInterrupt, KVM_INTERRUPT); the UART is PLIC source 10;
 * virtio-mmio transport i is source 1 + i: disks first (/dev/vda, /dev/vdb, ... in --disk order,
 * as Linux probes the transports in DT order), then the console and the entropy device. Devices
 * write their own nodes under /soc (DTSpec §3: a simple-bus with 2 address and 2 size cells,
 * identity-mapped through an empty `ranges`); the registry writes the PLIC first because its
 * phandle is everybody's interrupt-parent (style guide, example 6).
 */
import type { Vcpu } from '../backend/types.js';
import type { MachineFdtContext } from '../boot/machine-fdt.js';
import { MEMMAP, PLIC_NUM_SOURCES, UART0_IRQ, VIRTIO_IRQ_BASE, VIRTIO_MMIO_COUNT, VIRTIO_MMIO_STRIDE, virtioMmioBase } from '../boot/layout.js';
import type { BoardDevice } from '../devices/device.js';
import { EdgeFilteredIrqLine, type IrqLine } from '../devices/irq.js';
import { Ns16550a } from '../devices/ns16550a.js';
import { Plic } from '../devices/plic.js';
import { DeviceRegistry } from '../devices/registry.js';
import { VirtioBlk } from '../devices/virtio/blk.js';
import { VirtioConsole } from '../devices/virtio/console.js';
import type { DmaMemory } from '../devices/virtio/dma-memory.js';
import { VirtioMmioTransport } from '../devices/virtio/mmio-transport.js';
import { VirtioRng } from '../devices/virtio/rng.js';
import { MmioBus, type AccessSize } from './bus.js';

export interface BoardDisk {
  /** An open descriptor of the raw image (read-only when `readonly`). */
  fd: number;
  size: number;
  readonly: boolean;
}

export interface BoardOptions {
  /** vCPUs in hart order; the PLIC gets one S-mode context per vCPU. */
  vcpus: readonly Vcpu[];
  /** Guest RAM as virtio devices see it (checked accesses). */
  memory: DmaMemory;
  /** Receives the guest's console bytes (UART, and virtio-console when present). */
  consoleSink: (bytes: Uint8Array) => void;
  disks?: readonly BoardDisk[];
  /** Add a virtio-console (Linux /dev/hvc0). */
  virtioConsole?: boolean;
  /** Add a virtio-rng fed by this source (Linux /dev/hwrng). */
  rngSource?: (buffer: Uint8Array) => void;
  /** Called once, when the guest has enabled the UART's received-data interrupt (IER bit 0) for
   * good (watchReceiverReady). The machine holds console input until then: Linux's 8250 driver
   * drains the receiver and clears the FIFO while it probes and opens the port, so bytes typed
   * earlier would be lost. */
  onUartReceiverReady?: () => void;
}

export interface Board {
  bus: MmioBus;
  registry: DeviceRegistry;
  plic: Plic;
  uart: Ns16550a;
  virtioConsole?: VirtioConsole;
  /** DT path of the console device, for /chosen/stdout-path. */
  stdoutPath: string;
  /** Adds /soc and every registered device's node to the machine FDT. */
  writeFdt(ctx: MachineFdtContext): void;
}

/** A vCPU's external-interrupt line; a closed vCPU (machine stopping) is left alone. Only level
 * changes reach the vCPU (one KVM_INTERRUPT per change, not per register access). */
function vcpuExternalLine(vcpu: Vcpu): IrqLine {
  return new EdgeFilteredIrqLine({
    set(level) {
      if (vcpu.state === 'closed') return;
      vcpu.setExternalInterrupt(level);
    },
  });
}

/** IER (offset 1 while LCR.DLAB = 0), bit 0: enable received-data-available interrupt. */
const UART_IER = 1;
const UART_IER_ERBFI = 1;

/** How long IER.ERBFI must stay set before the receiver counts as ready (see watchReceiverReady). */
export const UART_RECEIVER_SETTLE_MS = 50;

/**
 * The UART seen through a hook that fires once the guest's driver is ready to receive: IER.ERBFI
 * set and still set UART_RECEIVER_SETTLE_MS later. Linux's 8250 autoconfig probe writes IER = 0x0f
 * for a moment and restores it, then startup drains the receiver and enables ERBFI for good; only
 * the second survives the delay. Each write leaving ERBFI set re-arms the check, so a console
 * write that clears IER around a printk only postpones it.
 */
function watchReceiverReady(device: Ns16550a, onReady: () => void): BoardDevice {
  let ready = false;
  let timer: NodeJS.Timeout | undefined;
  const erbfi = (): boolean => (device.snapshot().ier & UART_IER_ERBFI) !== 0;
  return {
    read: (offset: number, size: AccessSize) => device.read(offset, size),
    write: (offset: number, size: AccessSize, value: bigint) => {
      device.write(offset, size, value);
      // Only IER writes are inspected (a few per boot and per printk), so snapshot() is cheap here.
      if (ready || offset !== UART_IER || (Number(value) & UART_IER_ERBFI) === 0 || !erbfi()) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        if (!ready && erbfi()) {
          ready = true;
          onReady();
        }
      }, UART_RECEIVER_SETTLE_MS);
      timer.unref();
    },
    writeFdtNode: (parent, at) => device.writeFdtNode(parent, at),
    snapshot: () => device.snapshot(),
    restore: (s) => device.restore(s as ReturnType<Ns16550a['snapshot']>),
  };
}

const SOC = 'soc';

/** The options a caller can get wrong, checked before any device exists (TypeError / RangeError
 * naming the option). */
function checkBoardOptions(opts: BoardOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('board options must be an object');
  if (!Array.isArray(opts.vcpus) || opts.vcpus.length === 0) throw new RangeError('vcpus must be a non-empty array of vCPUs (one PLIC context each)');
  if (typeof opts.memory !== 'object' || opts.memory === null) throw new TypeError(`memory must be the guest RAM (a GuestMemory), got ${opts.memory === null ? 'null' : typeof opts.memory}`);
  if (typeof opts.consoleSink !== 'function') throw new TypeError(`consoleSink must be a function, got ${typeof opts.consoleSink}`);
  if (opts.rngSource !== undefined && typeof opts.rngSource !== 'function') throw new TypeError(`rngSource must be a function, got ${typeof opts.rngSource}`);
  if (opts.onUartReceiverReady !== undefined && typeof opts.onUartReceiverReady !== 'function') throw new TypeError(`onUartReceiverReady must be a function, got ${typeof opts.onUartReceiverReady}`);
  (opts.disks ?? []).forEach((d, i) => {
    if (!Number.isInteger(d?.fd) || d.fd < 0) throw new RangeError(`disks[${i}].fd must be an open file descriptor, got ${String(d?.fd)}`);
    // virtio-blk counts capacity in 512-byte sectors (virtio v1.2 §5.2.4).
    if (!Number.isSafeInteger(d.size) || d.size < 0 || d.size % 512 !== 0) throw new RangeError(`disks[${i}].size must be a whole number of 512-byte sectors, got ${d.size}`);
  });
}

export function buildBoard(opts: BoardOptions): Board {
  checkBoardOptions(opts);
  const disks = opts.disks ?? [];
  const virtioCount = disks.length + (opts.virtioConsole ? 1 : 0) + (opts.rngSource ? 1 : 0);
  if (virtioCount > VIRTIO_MMIO_COUNT) throw new RangeError(`at most ${VIRTIO_MMIO_COUNT} virtio devices fit the memory map; asked for ${virtioCount}`);
  const bus = new MmioBus();
  const registry = new DeviceRegistry(bus);

  const plicSize = BigInt(Plic.windowSize(opts.vcpus.length));
  if (plicSize > MEMMAP.plic.size) throw new RangeError(`${opts.vcpus.length} harts need a PLIC window larger than the memory map reserves`);
  const plic = registry.add('plic', MEMMAP.plic.base, plicSize, new Plic({ ndev: PLIC_NUM_SOURCES, hartLines: opts.vcpus.map(vcpuExternalLine) }));
  const uart = new Ns16550a({ sink: opts.consoleSink, irq: plic.irqLine(UART0_IRQ), irqNumber: UART0_IRQ });
  registry.add('uart0', MEMMAP.uart0.base, MEMMAP.uart0.size, opts.onUartReceiverReady ? watchReceiverReady(uart, opts.onUartReceiverReady) : uart);

  let slot = 0;
  const addVirtio = (name: string, make: () => ConstructorParameters<typeof VirtioMmioTransport>[0]): bigint => {
    const irqNumber = VIRTIO_IRQ_BASE + slot;
    const base = virtioMmioBase(slot);
    registry.add(`${name}@${slot}`, base, VIRTIO_MMIO_STRIDE, new VirtioMmioTransport(make(), { memory: opts.memory, irq: plic.irqLine(irqNumber), irqNumber }));
    slot++;
    return base;
  };
  disks.forEach((d, i) => addVirtio(`virtio-blk${i}`, () => new VirtioBlk({ fd: d.fd, readOnly: d.readonly, sizeBytes: d.size, serial: `kvm-riscv-disk${i}` })));
  let virtioConsole: VirtioConsole | undefined;
  let consoleBase: bigint | undefined;
  if (opts.virtioConsole) {
    virtioConsole = new VirtioConsole({ sink: opts.consoleSink });
    consoleBase = addVirtio('virtio-console', () => virtioConsole!);
  }
  if (opts.rngSource) addVirtio('virtio-rng', () => new VirtioRng({ source: opts.rngSource }));

  const stdoutPath = consoleBase !== undefined
    ? `/${SOC}/virtio_mmio@${consoleBase.toString(16)}`
    : `/${SOC}/serial@${MEMMAP.uart0.base.toString(16)}`;
  return {
    bus,
    registry,
    plic,
    uart,
    virtioConsole,
    stdoutPath,
    writeFdt(ctx) {
      const soc = ctx.root.addNode(SOC)
        .setU32('#address-cells', 2)
        .setU32('#size-cells', 2)
        .setString('compatible', 'simple-bus')
        .setEmpty('ranges');
      registry.writeFdtNodes(soc, ctx.cpuIntcPhandles);
    },
  };
}
