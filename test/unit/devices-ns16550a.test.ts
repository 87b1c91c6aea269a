import { describe, expect, it } from 'vitest';
import { FdtBuilder, findNode, parseFdt, propCells, propStrings, propU32 } from '../../lib/boot/fdt.js';
import { RecordingIrqLine } from '../../lib/devices/irq.js';
import { Ns16550a, UART_HOST_QUEUE_LIMIT } from '../../lib/devices/ns16550a.js';

const RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function uart() {
  const out: number[] = [];
  const irq = new RecordingIrqLine();
  const dev = new Ns16550a({ sink: (d) => out.push(...d), irq, irqNumber: 10 });
  const r = (off: number) => dev.read(off, 1);
  const w = (off: number, v: number) => dev.write(off, 1, BigInt(v));
  return { dev, out, irq, r, w };
}

describe('ns16550a', () => {
  it('transmits THR writes to the sink, with THRE/TEMT always set', () => {
    const { out, r, w } = uart();
    for (const c of 'hi\n') w(RBR, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi\n');
    expect(r(LSR) & 0x60).toBe(0x60);
    expect(r(LSR) & 0x01).toBe(0); // nothing received
  });

  it('divisor latch: DLAB switches offsets 0/1 to DLL/DLM without transmitting', () => {
    const { out, r, w } = uart();
    w(LCR, 0x83);
    w(RBR, 0x01);
    w(IER, 0x02);
    expect(r(RBR)).toBe(0x01);
    expect(r(IER)).toBe(0x02);
    w(LCR, 0x03);
    expect(out).toEqual([]);
    expect(r(IER)).toBe(0); // IER untouched by the DLM write
    expect(r(LCR)).toBe(0x03);
  });

  it('receives host input through RBR and raises/lowers the RX interrupt', () => {
    const { dev, irq, r, w } = uart();
    w(IER, 0x01);
    expect(irq.level).toBe(false);
    expect(r(IIR) & 1).toBe(1);
    dev.input(new TextEncoder().encode('ab'));
    expect(irq.level).toBe(true);
    expect(r(IIR) & 0x0f).toBe(0x04);
    expect(r(LSR) & 1).toBe(1);
    expect(r(RBR)).toBe(0x61);
    expect(irq.level).toBe(true);
    expect(r(RBR)).toBe(0x62);
    expect(irq.level).toBe(false);
    expect(r(LSR) & 1).toBe(0);
    expect(r(RBR)).toBe(0); // empty FIFO reads 0
  });

  it('FIFO mode: trigger level picks RDA vs character timeout, IIR shows FIFOs enabled', () => {
    const { dev, r, w } = uart();
    w(FCR, 0x81); // enable, trigger 8
    w(IER, 0x01);
    dev.input([1, 2, 3]);
    expect(r(IIR)).toBe(0xc0 | 0x0c); // fewer than 8: timeout indication
    dev.input([4, 5, 6, 7, 8]);
    expect(r(IIR)).toBe(0xc0 | 0x04);
    w(FCR, 0x83); // clear RX
    expect(r(LSR) & 1).toBe(0);
    expect(r(IIR)).toBe(0xc1);
  });

  it('THRE interrupt: armed by enabling ETBEI, cleared by reading IIR, re-armed by a THR write', () => {
    const { irq, r, w } = uart();
    w(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(r(IIR) & 0x0f).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(r(IIR) & 1).toBe(1);
    w(RBR, 0x41);
    expect(irq.level).toBe(true);
    w(IER, 0);
    expect(irq.level).toBe(false);
  });

  it('RX data outranks THRE; line status (overrun in loopback) outranks both', () => {
    const { dev, r, w, out } = uart();
    w(IER, 0x07);
    dev.input([0x55]);
    expect(r(IIR) & 0x0f).toBe(0x04);
    r(RBR);
    // Loopback without FIFO: the second byte overruns the one-byte holding register.
    w(MCR, 0x10);
    w(RBR, 1);
    w(RBR, 2);
    expect(out).toEqual([]);
    expect(r(IIR) & 0x0f).toBe(0x06);
    expect(r(LSR) & 0x03).toBe(0x03);
    expect(r(LSR) & 0x02).toBe(0); // OE clears on read
    expect(r(RBR)).toBe(1);
  });

  it('loopback MSR mirrors MCR; outside loopback the line reads connected', () => {
    const { r, w } = uart();
    expect(r(MSR)).toBe(0xb0);
    w(MCR, 0x10 | 0x0f);
    expect(r(MSR)).toBe(0xf0);
    w(MCR, 0x10 | 0x01);
    expect(r(MSR)).toBe(0x20);
  });

  it('scratch register, reserved offsets and wide accesses are harmless', () => {
    const { dev, r, w } = uart();
    w(SCR, 0x5a);
    expect(r(SCR)).toBe(0x5a);
    expect(r(0x80)).toBe(0);
    expect(() => dev.write(0xff, 8, 0xffff_ffff_ffff_ffffn)).not.toThrow();
    expect(dev.read(SCR, 4)).toBe(0x5a);
    w(LSR, 0); // read-only
    expect(r(LSR) & 0x60).toBe(0x60);
  });

  it('bounds host input at the queue limit and says how much it took', () => {
    const { dev } = uart();
    expect(dev.input(new Uint8Array(UART_HOST_QUEUE_LIMIT - 10))).toBe(UART_HOST_QUEUE_LIMIT - 10);
    expect(dev.input(new Uint8Array(100))).toBe(10);
    expect(dev.rxCount()).toBe(UART_HOST_QUEUE_LIMIT);
  });

  it('snapshot/restore round-trips registers, pending input and the interrupt level', () => {
    const a = uart();
    a.w(LCR, 0x80); a.w(RBR, 0x0c); a.w(IER, 0x00); a.w(LCR, 0x03);
    a.w(FCR, 0x41); a.w(IER, 0x05); a.w(SCR, 9); a.w(MCR, 0x0b);
    a.dev.input([7, 8, 9]);
    const snap = JSON.parse(JSON.stringify(a.dev.snapshot()));
    const b = uart();
    b.dev.restore(snap);
    expect(b.irq.level).toBe(true);
    expect(b.dev.snapshot()).toEqual(a.dev.snapshot());
    expect([b.r(RBR), b.r(RBR), b.r(RBR)]).toEqual([7, 8, 9]);
    expect(b.r(IIR)).toBe(0xc1);
    expect(() => b.dev.restore({ ...snap, lcr: 300 })).toThrow(RangeError);
    expect(() => b.dev.restore({ ...snap, rx: [1, -1] })).toThrow(RangeError);
  });

  it('writes a serial node that parses back', () => {
    const fdt = new FdtBuilder();
    fdt.root.setU32('#address-cells', 2).setU32('#size-cells', 2);
    uart().dev.writeFdtNode(fdt.root, { base: 0x1000_0000n, size: 0x100n, interruptParent: 3, cpuIntcPhandles: [1] });
    const node = findNode(parseFdt(fdt.toBytes()).root, '/serial@10000000')!;
    expect(node).toBeDefined();
    expect(propStrings(node.props.get('compatible')!)).toEqual(['ns16550a']);
    expect(propCells(node.props.get('reg')!)).toEqual([0, 0x1000_0000, 0, 0x100]);
    expect(propU32(node.props.get('clock-frequency')!)).toBe(3_686_400);
    expect(propU32(node.props.get('interrupts')!)).toBe(10);
    expect(propU32(node.props.get('interrupt-parent')!)).toBe(3);
  });
});
