import { describe, expect, it } from 'vitest';
import { FdtBuilder, findNode, parseFdt, propCells, propStrings, propU32 } from '../../lib/boot/fdt.js';
import { RecordingIrqLine } from '../../lib/devices/irq.js';
import { Plic } from '../../lib/devices/plic.js';

const priority = (src: number) => 4 * src;
const enable = (ctx: number, word = 0) => 0x2000 + 0x80 * ctx + 4 * word;
const threshold = (ctx: number) => 0x20_0000 + 0x1000 * ctx;
const claim = (ctx: number) => threshold(ctx) + 4;
const S = (hart: number) => 2 * hart + 1;

function plic(harts = 2, ndev = 95) {
  const lines = Array.from({ length: harts }, () => new RecordingIrqLine());
  const dev = new Plic({ ndev, hartLines: lines });
  const r = (off: number) => Number(dev.read(off, 4));
  const w = (off: number, v: number) => dev.write(off, 4, BigInt(v));
  return { dev, lines, r, w };
}

describe('PLIC', () => {
  it('drives a hart S-context level from priority, enable and threshold', () => {
    const { dev, lines, r, w } = plic();
    dev.setSource(10, true);
    expect(r(0x1000) >>> 10 & 1).toBe(1); // pending
    expect(lines[0]!.level).toBe(false); // priority 0 never interrupts
    w(priority(10), 1);
    expect(lines[0]!.level).toBe(false); // not enabled
    w(enable(S(0)), 1 << 10);
    expect(lines[0]!.level).toBe(true);
    expect(lines[1]!.level).toBe(false);
    w(threshold(S(0)), 1);
    expect(lines[0]!.level).toBe(false); // priority must exceed the threshold
    w(threshold(S(0)), 0);
    expect(lines[0]!.level).toBe(true);
    // The M context of hart 0 has no output, even when enabled.
    w(enable(0), 1 << 10);
    expect(lines[0]!.rises).toBe(2);
  });

  it('claim returns the best source (priority, then lowest id), complete re-arms a held level', () => {
    const { dev, lines, r, w } = plic(1);
    for (const s of [3, 5, 7]) { w(priority(s), s === 3 ? 2 : 5); dev.setSource(s, true); }
    w(enable(S(0)), (1 << 3) | (1 << 5) | (1 << 7));
    expect(r(claim(S(0)))).toBe(5); // 5 and 7 tie at priority 5: lowest id
    expect(r(claim(S(0)))).toBe(7);
    expect(lines[0]!.level).toBe(true); // 3 still pending
    expect(r(claim(S(0)))).toBe(3);
    expect(lines[0]!.level).toBe(false);
    expect(r(claim(S(0)))).toBe(0); // nothing left
    // Source 5 is still held high: completing it makes it pending again.
    dev.setSource(7, false);
    w(claim(S(0)), 5);
    w(claim(S(0)), 7);
    expect(lines[0]!.level).toBe(true);
    expect(r(claim(S(0)))).toBe(5);
    expect(r(0x1000) & (1 << 7)).toBe(0); // 7 dropped its level
  });

  it('a claimed source stays out of pending until completed, even if re-asserted', () => {
    const { dev, lines, r, w } = plic(1);
    w(priority(1), 1);
    w(enable(S(0)), 1 << 1);
    dev.setSource(1, true);
    expect(r(claim(S(0)))).toBe(1);
    dev.setSource(1, false);
    dev.setSource(1, true);
    expect(lines[0]!.level).toBe(false);
    w(claim(S(0)), 1);
    expect(lines[0]!.level).toBe(true);
  });

  it('ignores completion of a source not enabled for the context (riscv-plic-spec §9)', () => {
    const { dev, lines, r, w } = plic(2);
    w(priority(2), 1);
    w(enable(S(0)), 1 << 2);
    dev.setSource(2, true);
    expect(r(claim(S(0)))).toBe(2);
    w(claim(S(1)), 2); // hart 1 does not have source 2 enabled
    expect(lines[0]!.level).toBe(false);
    w(claim(S(0)), 2);
    expect(lines[0]!.level).toBe(true);
  });

  it('routes by context: each hart sees only its enabled sources', () => {
    const { dev, lines, r, w } = plic(2);
    w(priority(33), 3);
    w(enable(S(1), 1), 1 << 1); // source 33 = word 1, bit 1
    dev.setSource(33, true);
    expect(lines.map((l) => l.level)).toEqual([false, true]);
    expect(r(enable(S(1), 1))).toBe(2);
    expect(r(0x1004)).toBe(2);
    expect(r(claim(S(0)))).toBe(0);
    expect(r(claim(S(1)))).toBe(33);
  });

  it('masks what the guest cannot set and ignores bad offsets and sizes', () => {
    const { dev, r, w } = plic(1, 40);
    w(enable(S(0)), 0xffff_ffff);
    expect(r(enable(S(0)))).toBe(0xffff_fffe); // source 0 is hard-wired off
    w(enable(S(0), 1), 0xffff_ffff);
    expect(r(enable(S(0), 1))).toBe(0x1ff); // sources 32..40 only
    w(enable(S(0), 2), 0xffff_ffff); // beyond ndev: ignored
    expect(r(enable(S(0), 2))).toBe(0);
    w(priority(0), 7);
    expect(r(priority(0))).toBe(0);
    w(priority(41), 7);
    expect(r(priority(41))).toBe(0);
    w(priority(1), 0xffff);
    expect(r(priority(1))).toBe(7);
    w(0x1000, 0xffff_ffff); // pending is read-only
    expect(r(0x1000)).toBe(0);
    w(threshold(S(0)), 99);
    expect(r(threshold(S(0)))).toBe(7);
    // Contexts past the last hart, misaligned and non-32-bit accesses.
    expect(r(claim(2))).toBe(0);
    w(threshold(5), 1);
    expect(dev.read(priority(1) + 1, 4)).toBe(0);
    expect(dev.read(priority(1), 1)).toBe(0);
    dev.write(priority(2), 8, 5n);
    expect(r(priority(2))).toBe(0);
    expect(r(0x5f_fffc)).toBe(0);
    expect(() => dev.setSource(0, true)).toThrow(RangeError);
    expect(() => dev.setSource(41, true)).toThrow(RangeError);
  });

  it('irqLine() gives devices a level input for their source', () => {
    const { dev, lines, w } = plic(1);
    w(priority(10), 1);
    w(enable(S(0)), 1 << 10);
    const line = dev.irqLine(10);
    line.set(true);
    expect(lines[0]!.level).toBe(true);
    line.set(false);
    expect(lines[0]!.level).toBe(false);
  });

  it('snapshot/restore round-trips and re-announces hart levels', () => {
    const a = plic(2);
    a.w(priority(4), 6); a.w(priority(9), 2);
    a.w(enable(S(1)), (1 << 4) | (1 << 9)); a.w(threshold(S(1)), 1);
    a.dev.setSource(4, true); a.dev.setSource(9, true);
    expect(a.r(claim(S(1)))).toBe(4);
    const snap = JSON.parse(JSON.stringify(a.dev.snapshot()));
    const b = plic(2);
    b.dev.restore(snap);
    expect(b.dev.snapshot()).toEqual(a.dev.snapshot());
    expect(b.lines.map((l) => l.level)).toEqual([false, true]);
    expect(b.r(claim(S(1)))).toBe(9);
    b.w(claim(S(1)), 4); // 4 was in flight before the snapshot, still high
    expect(b.r(claim(S(1)))).toBe(4);
    expect(() => b.dev.restore({ ...snap, threshold: [0] })).toThrow(RangeError);
    expect(() => b.dev.restore({ ...snap, priority: snap.priority.map(() => 9) })).toThrow(RangeError);
  });

  it('writes a plic node with per-hart interrupts-extended that parses back', () => {
    const fdt = new FdtBuilder();
    const { dev } = plic(2);
    const node = dev.writeFdtNode(fdt.root, { base: 0x0c00_0000n, size: BigInt(Plic.windowSize(2)), interruptParent: 0, cpuIntcPhandles: [5, 6] });
    const ph = node.phandle();
    const parsed = findNode(parseFdt(fdt.toBytes()).root, '/plic@c000000')!;
    expect(propStrings(parsed.props.get('compatible')!)).toEqual(['sifive,plic-1.0.0', 'riscv,plic0']);
    expect(propCells(parsed.props.get('reg')!)).toEqual([0, 0x0c00_0000, 0, 0x20_0000 + 4 * 0x1000]);
    expect(propU32(parsed.props.get('#interrupt-cells')!)).toBe(1);
    expect(parsed.props.get('interrupt-controller')!.length).toBe(0);
    expect(propU32(parsed.props.get('riscv,ndev')!)).toBe(95);
    expect(propCells(parsed.props.get('interrupts-extended')!)).toEqual([5, 0xffff_ffff, 5, 9, 6, 0xffff_ffff, 6, 9]);
    expect(propU32(parsed.props.get('phandle')!)).toBe(ph);
    expect(() => dev.writeFdtNode(new FdtBuilder().root, { base: 0n, size: 1n, interruptParent: 0, cpuIntcPhandles: [5] })).toThrow(/2 harts/);
  });
});
