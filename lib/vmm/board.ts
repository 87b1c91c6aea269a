/**
 * The board: the devices of one boot of a machine, mapped on a fresh MMIO bus at the addresses of
 * the memory map (lib/boot/layout.ts MEMMAP, QEMU virt), with their interrupt wiring and their
 * device-tree nodes. A reboot builds a new board (fresh device state, as a reset line would give);
 * host-side resources that outlive a boot (disk files) are owned by the caller.
 *
 * Wiring (QEMU virt, hw/riscv/virt.c): the PLIC's S-mode context of hart h drives that vCPU's
 * external-interrupt line (vcpu.setExternalInterrupt, KVM_INTERRUPT); the UART is PLIC source 10;
 * virtio-mmio transport i is source 1 + i. Each device writes its own node under /soc (DTSpec §3,
 * a simple-bus with 2 address and 2 size cells, identity-mapped through an empty `ranges`); the
 * PLIC goes first because its phandle is everybody's interrupt-parent (style guide, example 6).
 */
import type { Vcpu } from '../backend/types.js';
import type { MachineFdtContext } from '../boot/machine-fdt.js';
import { MEMMAP, PLIC_NUM_SOURCES, UART0_IRQ, VIRTIO_IRQ_BASE, VIRTIO_MMIO_COUNT, virtioMmioBase, VIRTIO_MMIO_STRIDE } from '../boot/layout.js';
import type { BoardDevice } from '../devices/device.js';
import { EdgeFilteredIrqLine, type IrqLine } from '../devices/irq.js';
import { Ns16550a } from '../devices/ns16550a.js';
import { Plic } from '../devices/plic.js';
import { MmioBus } from './bus.js';

export interface BoardSlot {
  name: string;
  base: bigint;
  size: bigint;
  device: BoardDevice;
}

/** What a virtio device factory gets: its PLIC line. */
export interface VirtioSlotEnv {
  index: number;
  irqNumber: number;
  irq: IrqLine;
}

export interface BoardOptions {
  /** vCPUs in hart order; the PLIC gets one S-mode context per vCPU. */
  vcpus: readonly Vcpu[];
  /** Receives the UART's transmitted bytes. */
  uartSink: (bytes: Uint8Array) => void;
  /** virtio-mmio devices, one transport each, in slot order (at most VIRTIO_MMIO_COUNT). */
  virtio?: readonly ((env: VirtioSlotEnv) => { name: string; device: BoardDevice })[];
}

export interface Board {
  bus: MmioBus;
  slots: readonly BoardSlot[];
  plic: Plic;
  uart: Ns16550a;
  /** DT path of the UART node, for /chosen/stdout-path. */
  uartPath: string;
  /** Adds /soc and every device node to the machine FDT. */
  writeFdt(ctx: MachineFdtContext): void;
}

/** A vCPU's external-interrupt line; a vCPU that is already closed (machine stopping) is ignored. */
function vcpuExternalLine(vcpu: Vcpu): IrqLine {
  return new EdgeFilteredIrqLine({
    set(level) {
      if (vcpu.state === 'closed') return;
      vcpu.setExternalInterrupt(level);
    },
  });
}

export function buildBoard(opts: BoardOptions): Board {
  const virtio = opts.virtio ?? [];
  if (virtio.length > VIRTIO_MMIO_COUNT) throw new RangeError(`at most ${VIRTIO_MMIO_COUNT} virtio devices fit the memory map; got ${virtio.length}`);
  const plic = new Plic({ ndev: PLIC_NUM_SOURCES, hartLines: opts.vcpus.map(vcpuExternalLine) });
  const plicSize = BigInt(Plic.windowSize(opts.vcpus.length));
  if (plicSize > MEMMAP.plic.size) throw new RangeError(`${opts.vcpus.length} harts need a PLIC window larger than the memory map reserves`);
  const uart = new Ns16550a({ sink: opts.uartSink, irq: plic.irqLine(UART0_IRQ), irqNumber: UART0_IRQ });

  const slots: BoardSlot[] = [
    { name: 'plic', base: MEMMAP.plic.base, size: plicSize, device: plic },
    { name: 'uart0', base: MEMMAP.uart0.base, size: MEMMAP.uart0.size, device: uart },
  ];
  virtio.forEach((make, index) => {
    const irqNumber = VIRTIO_IRQ_BASE + index;
    const { name, device } = make({ index, irqNumber, irq: plic.irqLine(irqNumber) });
    slots.push({ name: `${name}@virtio${index}`, base: virtioMmioBase(index), size: VIRTIO_MMIO_STRIDE, device });
  });

  const bus = new MmioBus();
  for (const s of slots) bus.map(s.name, s.base, s.size, s.device);

  const socPath = '/soc';
  return {
    bus,
    slots,
    plic,
    uart,
    uartPath: `${socPath}/serial@${MEMMAP.uart0.base.toString(16)}`,
    writeFdt(ctx) {
      const soc = ctx.root.addNode('soc')
        .setU32('#address-cells', 2)
        .setU32('#size-cells', 2)
        .setString('compatible', 'simple-bus')
        .setEmpty('ranges');
      const controllers = slots.filter((s) => s.device.isInterruptController);
      const others = slots.filter((s) => !s.device.isInterruptController);
      let interruptParent = 0;
      for (const s of controllers) {
        const node = s.device.writeFdtNode(soc, { base: s.base, size: s.size, interruptParent: 0, cpuIntcPhandles: ctx.cpuIntcPhandles });
        interruptParent = node.phandle();
      }
      for (const s of others) s.device.writeFdtNode(soc, { base: s.base, size: s.size, interruptParent, cpuIntcPhandles: ctx.cpuIntcPhandles });
    },
  };
}
