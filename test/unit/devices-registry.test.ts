import { describe, expect, it } from 'vitest';
import { FdtBuilder, findNode, parseFdt, propCells, propU32 } from '../../lib/boot/fdt.js';
import { MEMMAP, PLIC_NUM_SOURCES, UART0_IRQ, VIRTIO_IRQ_BASE, VIRTIO_MMIO_STRIDE, virtioMmioBase } from '../../lib/boot/layout.js';
import { RecordingIrqLine } from '../../lib/devices/irq.js';
import { Ns16550a } from '../../lib/devices/ns16550a.js';
import { Plic } from '../../lib/devices/plic.js';
import { DeviceRegistry } from '../../lib/devices/registry.js';
import { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import { VirtioRng } from '../../lib/devices/virtio/rng.js';
import { MmioBus } from '../../lib/vmm/bus.js';
import { FakeRam } from './devices-virtio-driver.js';

/** A two-hart board wired as the machine will: device lines into the PLIC, PLIC into harts. */
function board() {
  const bus = new MmioBus();
  const reg = new DeviceRegistry(bus);
  const harts = [new RecordingIrqLine(), new RecordingIrqLine()];
  const out: number[] = [];
  const plic = reg.add('plic', MEMMAP.plic.base, MEMMAP.plic.size, new Plic({ ndev: PLIC_NUM_SOURCES, hartLines: harts }));
  const uart = reg.add('uart0', MEMMAP.uart0.base, MEMMAP.uart0.size, new Ns16550a({ sink: (d) => out.push(...d), irq: plic.irqLine(UART0_IRQ), irqNumber: UART0_IRQ }));
  const rng = reg.add('virtio0', virtioMmioBase(0), VIRTIO_MMIO_STRIDE,
    new VirtioMmioTransport(new VirtioRng({ source: (b) => b.fill(1) }), { memory: new FakeRam(), irq: plic.irqLine(VIRTIO_IRQ_BASE), irqNumber: VIRTIO_IRQ_BASE }));
  return { bus, reg, harts, out, plic, uart, rng };
}

describe('DeviceRegistry', () => {
  it('maps devices on the bus at their windows', () => {
    const { bus, out } = board();
    bus.write(MEMMAP.uart0.base, 1, 0x41n);
    expect(out).toEqual([0x41]);
    expect(bus.read(virtioMmioBase(0), 4)).toBe(0x7472_6976n);
    expect(bus.read(virtioMmioBase(0) + 8n, 4)).toBe(4n);
    expect(() => board().reg.add('uart0', 0x2000_0000n, 0x100, new Ns16550a({ irqNumber: 3 }))).toThrow(/already registered/);
    const { reg } = board();
    expect(() => reg.add('clash', MEMMAP.uart0.base + 0x80n, 0x100, new Ns16550a({ irqNumber: 3 }))).toThrow(/overlaps uart0/);
  });

  it('routes a UART interrupt through the PLIC to the hart whose S context enables it', () => {
    const { bus, harts, uart } = board();
    const plicBase = MEMMAP.plic.base;
    bus.write(plicBase + BigInt(4 * UART0_IRQ), 4, 1n);
    bus.write(plicBase + 0x2000n + 0x80n * 3n, 4, BigInt(1 << UART0_IRQ)); // hart 1, S context
    bus.write(MEMMAP.uart0.base + 1n, 1, 1n); // IER: RX data
    uart.input([0x7a]);
    expect(harts.map((h) => h.level)).toEqual([false, true]);
    const claimReg = plicBase + 0x20_0000n + 0x1000n * 3n + 4n;
    expect(bus.read(claimReg, 4)).toBe(BigInt(UART0_IRQ));
    expect(harts[1]!.level).toBe(false);
    expect(bus.read(MEMMAP.uart0.base, 1)).toBe(0x7an); // the handler drains RX; the UART line drops
    bus.write(claimReg, 4, BigInt(UART0_IRQ));
    expect(harts[1]!.level).toBe(false);
  });

  it('writes the interrupt controller first and makes it every device\'s interrupt-parent', () => {
    const { reg } = board();
    const fdt = new FdtBuilder();
    const root = fdt.root;
    root.setU32('#address-cells', 2).setU32('#size-cells', 2);
    const ph = reg.writeFdtNodes(root, [11, 12]);
    const parsed = parseFdt(fdt.toBytes()).root;
    expect(parsed.children.map((c) => c.name)).toEqual(['plic@c000000', 'serial@10000000', 'virtio_mmio@10001000']);
    expect(propU32(findNode(parsed, '/plic@c000000')!.props.get('phandle')!)).toBe(ph);
    expect(propCells(findNode(parsed, '/plic@c000000')!.props.get('interrupts-extended')!)).toEqual([11, 0xffff_ffff, 11, 9, 12, 0xffff_ffff, 12, 9]);
    for (const name of ['/serial@10000000', '/virtio_mmio@10001000']) {
      expect(propU32(findNode(parsed, name)!.props.get('interrupt-parent')!)).toBe(ph);
    }
    expect(propU32(findNode(parsed, '/virtio_mmio@10001000')!.props.get('interrupts')!)).toBe(VIRTIO_IRQ_BASE);

    const lonely = new DeviceRegistry(new MmioBus());
    lonely.add('uart', 0x1000n, 0x100n, new Ns16550a({ irqNumber: 10 }));
    expect(() => lonely.writeFdtNodes(new FdtBuilder().root, [1])).toThrow(/need an interrupt controller/);
  });

  it('snapshots and restores every device by name', () => {
    const a = board();
    a.bus.write(MEMMAP.uart0.base + 7n, 1, 0x33n);
    a.bus.write(MEMMAP.plic.base + 8n, 4, 5n);
    const snap = JSON.parse(JSON.stringify(a.reg.snapshot()));
    const b = board();
    b.reg.restore(snap);
    expect(b.bus.read(MEMMAP.uart0.base + 7n, 1)).toBe(0x33n);
    expect(b.bus.read(MEMMAP.plic.base + 8n, 4)).toBe(5n);
    expect(b.reg.snapshot()).toEqual(a.reg.snapshot());
    const { uart0: _dropped, ...partial } = snap;
    expect(() => b.reg.restore(partial)).toThrow(/uart0/);
  });
});
