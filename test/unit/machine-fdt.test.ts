// The device tree a Machine hands the guest, built on the emulator backend so the hart description
// comes from real ONE_REG registers: /chosen, /cpus from the ISA registers, the board under /soc
// (PLIC wired to every hart's S-mode external interrupt, UART, virtio-mmio devices), and the boot
// registers of the Linux boot protocol.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REG_A0, REG_A1, REG_PC, regId } from '../../lib/abi/regs.js';
import { findNode, parseFdt, propCells, propStrings, propU32, propU64, type ParsedFdtNode } from '../../lib/boot/fdt.js';
import { describeHart, isaExtensionList, isaString } from '../../lib/boot/hart-description.js';
import { Machine, RNG_SEED_BYTES, type BootInfo, type MachineConfig } from '../../lib/vmm/machine.js';

const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-fdt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const disk = join(dir, 'disk.img');
writeFileSync(disk, Buffer.alloc(64 * 1024));

/** `j .`: a flat guest that spins until stopped. */
const SPIN = Uint8Array.of(0x6f, 0x00, 0x00, 0x00);
const seedOf = (b: Uint8Array): void => { for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff; };

interface Booted { info: BootInfo; root: ParsedFdtNode; regs: { pc: bigint; a0: bigint; a1: bigint; freq: bigint; secondary: string }; isa: string[]; ext: string[][] }

async function bootAndStop(extra: Partial<MachineConfig>): Promise<Booted> {
  const m = new Machine({ backend: 'emulator', kernel: SPIN, memorySize: 32 << 20, entropy: seedOf, ...extra });
  let booted: Booted | undefined;
  m.on('boot', (info) => {
    const v = info.vcpus;
    booted = {
      info,
      root: parseFdt(info.fdt).root,
      regs: {
        pc: v[0]!.getReg(REG_PC), a0: v[0]!.getReg(REG_A0), a1: v[0]!.getReg(REG_A1),
        freq: v[0]!.getReg(regId('timer.frequency')), secondary: v.length > 1 ? v[1]!.getMpState() : 'none',
      },
      isa: v.map((x) => isaString(describeHart(x))),
      ext: v.map((x) => isaExtensionList(describeHart(x))),
    };
  });
  await m.start();
  m.stop();
  expect(await m.done).toMatchObject({ kind: 'shutdown', stoppedByHost: true });
  return booted!;
}

const node = (root: ParsedFdtNode, path: string): ParsedFdtNode => {
  const n = findNode(root, path);
  if (!n) throw new Error(`no ${path}`);
  return n;
};
const str = (n: ParsedFdtNode, p: string): string => propStrings(n.props.get(p)!)[0]!;

describe('Machine device tree (emulator backend)', () => {
  it('chosen, cpus, memory and the board for 2 harts, an initrd and a disk', async () => {
    const initrd = new Uint8Array(8192).fill(0xab);
    const b = await bootAndStop({ vcpus: 2, initrd, cmdline: 'console=ttyS0 quiet', disks: [{ path: disk, readonly: true }] });
    const { root, info } = b;

    // Boot protocol: hart 0 at the entry with a0 = 0, a1 = FDT; hart 1 left for HSM.
    expect(b.regs).toMatchObject({ pc: 0x8020_0000n, a0: 0n, a1: info.fdtAddress, secondary: 'stopped' });

    const chosen = node(root, '/chosen');
    expect(str(chosen, 'bootargs')).toBe('console=ttyS0 quiet');
    expect(str(chosen, 'stdout-path')).toBe('/soc/serial@10000000');
    expect(propU64(chosen.props.get('linux,initrd-start')!)).toBe(info.initrd!.start);
    expect(propU64(chosen.props.get('linux,initrd-end')!)).toBe(info.initrd!.start + 8192n);
    const seed = new Uint8Array(RNG_SEED_BYTES);
    seedOf(seed);
    expect(chosen.props.get('rng-seed')).toEqual(seed);

    expect(propCells(node(root, '/memory@80000000').props.get('reg')!)).toEqual([0, 0x8000_0000, 0, 32 << 20]);

    const cpus = node(root, '/cpus');
    expect(propU32(cpus.props.get('timebase-frequency')!)).toBe(Number(b.regs.freq));
    const intc: number[] = [];
    for (const h of [0, 1]) {
      const cpu = node(root, `/cpus/cpu@${h}`);
      expect(str(cpu, 'riscv,isa')).toBe(b.isa[h]);
      expect(str(cpu, 'riscv,isa')).toMatch(/^rv64ima/);
      expect(propStrings(cpu.props.get('riscv,isa-extensions')!)).toEqual(b.ext[h]);
      expect(str(cpu, 'mmu-type')).toMatch(/^riscv,sv(39|48|57)$/);
      intc.push(propU32(node(root, `/cpus/cpu@${h}/interrupt-controller`).props.get('phandle')!));
    }

    // The PLIC: M context unconnected, S context on IRQ 9 (SEIP), for each hart.
    const plic = node(root, '/soc/plic@c000000');
    const plicPhandle = propU32(plic.props.get('phandle')!);
    expect(propCells(plic.props.get('interrupts-extended')!)).toEqual([intc[0], 0xffff_ffff, intc[0], 9, intc[1], 0xffff_ffff, intc[1], 9]);
    expect(propU32(plic.props.get('riscv,ndev')!)).toBe(95);

    const uart = node(root, '/soc/serial@10000000');
    expect(str(uart, 'compatible')).toBe('ns16550a');
    expect(propU32(uart.props.get('interrupts')!)).toBe(10);
    expect(propU32(uart.props.get('interrupt-parent')!)).toBe(plicPhandle);

    // virtio-mmio: the disk in slot 0 (IRQ 1), the entropy device in slot 1 (IRQ 2).
    for (const [addr, irq] of [['10001000', 1], ['10002000', 2]] as const) {
      const v = node(root, `/soc/virtio_mmio@${addr}`);
      expect(str(v, 'compatible')).toBe('virtio,mmio');
      expect(propU32(v.props.get('interrupts')!)).toBe(irq);
      expect(propU32(v.props.get('interrupt-parent')!)).toBe(plicPhandle);
    }
    expect(findNode(root, '/soc/virtio_mmio@10003000')).toBeUndefined();
    // The bus maps what the tree describes.
    expect(info.board.bus.list().map((r) => r.base)).toEqual([0x0c00_0000n, 0x1000_0000n, 0x1000_1000n, 0x1000_2000n]);
  });

  it('a virtio console becomes stdout-path; no rng device when disabled; no initrd properties without one', async () => {
    const { root } = await bootAndStop({ console: 'virtio', virtioRng: false });
    const chosen = node(root, '/chosen');
    expect(str(chosen, 'stdout-path')).toBe('/soc/virtio_mmio@10001000');
    expect(chosen.props.has('linux,initrd-start')).toBe(false);
    expect(findNode(root, '/soc/virtio_mmio@10002000')).toBeUndefined();
  });
});
