import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMachineFdt } from '../../lib/boot/machine-fdt.js';
import {
  describeHart, isaExtensionList, isaString, mmuType, sortMultiLetterExtensions, type HartDescription,
} from '../../lib/boot/hart-description.js';
import { findNode, parseFdt, propCells, propStrings, propU32 } from '../../lib/boot/fdt.js';
import { FDT_MAX_SIZE, KERNEL_LOAD_ADDRESS, MEMMAP, RAM_BASE, fdtAddress, virtioMmioBase } from '../../lib/boot/layout.js';
import { regId } from '../../lib/abi/regs.js';
import { kvmErrno } from '../../lib/errors.js';

const hasDtc = spawnSync('dtc', ['--version']).status === 0;
const bits = (letters: string) => [...letters].reduce((b, c) => b | (1n << BigInt(c.charCodeAt(0) - 97)), 0n);

describe('memory map (QEMU virt, hw/riscv/virt.c virt_memmap[])', () => {
  it('has the documented addresses', () => {
    expect(MEMMAP.plic.base).toBe(0x0c00_0000n);
    expect(MEMMAP.uart0.base).toBe(0x1000_0000n);
    expect(virtioMmioBase(0)).toBe(0x1000_1000n);
    expect(virtioMmioBase(7)).toBe(0x1000_8000n);
    expect(() => virtioMmioBase(8)).toThrow(RangeError);
    expect(RAM_BASE).toBe(0x8000_0000n);
    expect(KERNEL_LOAD_ADDRESS).toBe(0x8020_0000n);
  });

  it('no two device regions overlap, and none reaches RAM', () => {
    const regions = [MEMMAP.plic, MEMMAP.uart0, MEMMAP.virtio].sort((a, b) => (a.base < b.base ? -1 : 1));
    for (let i = 1; i < regions.length; i++) expect(regions[i - 1]!.base + regions[i - 1]!.size).toBeLessThanOrEqual(regions[i]!.base);
    expect(regions[regions.length - 1]!.base + regions[regions.length - 1]!.size).toBeLessThanOrEqual(RAM_BASE);
  });

  it('places the FDT 2 MiB-aligned at the top of RAM, clear of the image', () => {
    expect(fdtAddress(128 << 20, 0x800, KERNEL_LOAD_ADDRESS + 0x1000n)).toBe(RAM_BASE + BigInt(128 << 20) - 0x20_0000n);
    // Capped at RAM + 3 GiB for big RAM.
    expect(fdtAddress(8 * 2 ** 30, 0x800, KERNEL_LOAD_ADDRESS)).toBe(RAM_BASE + (3n << 30n) - 0x20_0000n);
    expect(() => fdtAddress(8 << 20, 0x800, RAM_BASE + 0x70_0000n)).toThrow(/no room/);
    expect(() => fdtAddress(128 << 20, FDT_MAX_SIZE + 1, KERNEL_LOAD_ADDRESS)).toThrow(RangeError);
  });
});

describe('riscv,isa and friends (cpus.yaml binding)', () => {
  const hart: HartDescription = {
    hartId: 0, isaBits: bits('acdfim'), satpMode: 10,
    multiLetterExtensions: ['sstc', 'zbb', 'zicsr', 'zba', 'zifencei', 'svinval', 'zfh', 'zicbom', 'zacas'],
  };

  it('orders single letters canonically and multi-letter ones by category then name', () => {
    expect(isaString(hart)).toBe('rv64imafdc_zicbom_zicsr_zifencei_zacas_zfh_zba_zbb_sstc_svinval');
    expect(isaExtensionList(hart).slice(0, 6)).toEqual(['i', 'm', 'a', 'f', 'd', 'c']);
    expect(sortMultiLetterExtensions(['xfoo', 'ssaia', 'zve32x', 'zicond'])).toEqual(['zicond', 'zve32x', 'ssaia', 'xfoo']);
  });

  it('maps satp_mode to mmu-type, defaulting to sv39 as kvmtool does', () => {
    expect([8, 9, 10, 0, undefined].map(mmuType)).toEqual(['riscv,sv39', 'riscv,sv48', 'riscv,sv57', 'riscv,none', 'riscv,sv39']);
  });

  it('describeHart reads config.isa and isa_ext registers, treating ENOENT as absent', () => {
    const regs = new Map<bigint, bigint>([
      [regId('config.isa'), bits('imac')],
      [regId('isa_ext.ZICSR'), 1n],
      [regId('isa_ext.ZBA'), 0n],
      [regId('isa_ext.ZICBOM'), 1n],
      [regId('config.zicbom_block_size'), 64n],
      [regId('isa_ext.A'), 1n], // single letters are taken from config.isa, not repeated
    ]);
    const d = describeHart({ id: 3, getReg: (id) => { const v = regs.get(id); if (v === undefined) throw kvmErrno(2, 'KVM_GET_ONE_REG'); return v; } });
    expect(d).toEqual({ hartId: 3, isaBits: bits('imac'), multiLetterExtensions: ['zicbom', 'zicsr'], satpMode: undefined, cbomBlockSize: 64 });
    expect(isaString(d)).toBe('rv64imac_zicbom_zicsr');
  });
});

describe('machine FDT', () => {
  const harts: HartDescription[] = [0, 1].map((hartId) => ({ hartId, isaBits: bits('imafdc'), multiLetterExtensions: ['zicsr', 'zifencei'], satpMode: 8, cbomBlockSize: 64 }));
  const build = () => buildMachineFdt({
    harts, timebaseFrequency: 10_000_000, ram: { base: RAM_BASE, size: 128 << 20 }, bootargs: 'console=hvc0 quiet', stdoutPath: '/soc/serial@10000000',
    nodeWriters: [({ root, cpuIntcPhandles }) => {
      root.addNode('soc').addNode('serial@10000000').setCells('interrupts-extended', [cpuIntcPhandles[0]!, 9]);
    }],
  });

  it('has /cpus with timebase-frequency, one cpu@N per hart with an intc child, /memory and /chosen', () => {
    const { blob, cpuIntcPhandles } = build();
    const { root, bootCpuidPhys } = parseFdt(blob);
    expect(bootCpuidPhys).toBe(0);
    expect(propU32(findNode(root, '/cpus')!.props.get('timebase-frequency')!)).toBe(10_000_000);
    for (const n of [0, 1]) {
      const cpu = findNode(root, `/cpus/cpu@${n}`)!;
      expect(propU32(cpu.props.get('reg')!)).toBe(n);
      expect(propStrings(cpu.props.get('riscv,isa')!)).toEqual(['rv64imafdc_zicsr_zifencei']);
      expect(propStrings(cpu.props.get('riscv,isa-base')!)).toEqual(['rv64i']);
      expect(propStrings(cpu.props.get('riscv,isa-extensions')!)).toEqual(['i', 'm', 'a', 'f', 'd', 'c', 'zicsr', 'zifencei']);
      expect(propStrings(cpu.props.get('mmu-type')!)).toEqual(['riscv,sv39']);
      expect(propU32(cpu.props.get('riscv,cbom-block-size')!)).toBe(64);
      const intc = findNode(root, `/cpus/cpu@${n}/interrupt-controller`)!;
      expect(propStrings(intc.props.get('compatible')!)).toEqual(['riscv,cpu-intc']);
      expect(propU32(intc.props.get('phandle')!)).toBe(cpuIntcPhandles[n]);
    }
    expect(new Set(cpuIntcPhandles).size).toBe(2);
    expect(propCells(findNode(root, '/memory@80000000')!.props.get('reg')!)).toEqual([0, 0x8000_0000, 0, 128 << 20]);
    expect(propStrings(findNode(root, '/chosen')!.props.get('bootargs')!)).toEqual(['console=hvc0 quiet']);
    expect(propStrings(findNode(root, '/chosen')!.props.get('stdout-path')!)).toEqual(['/soc/serial@10000000']);
    expect(propCells(findNode(root, '/soc/serial@10000000')!.props.get('interrupts-extended')!)).toEqual([cpuIntcPhandles[0], 9]);
  });

  it('refuses no harts and a bad timebase', () => {
    expect(() => buildMachineFdt({ harts: [], timebaseFrequency: 1, ram: { base: RAM_BASE, size: 1 << 20 } })).toThrow(/hart/);
    expect(() => buildMachineFdt({ harts, timebaseFrequency: 0, ram: { base: RAM_BASE, size: 1 << 20 } })).toThrow(/timebase/);
  });

  it.skipIf(!hasDtc)('dtc accepts it without warnings about our nodes (skipped without dtc)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfdt-'));
    try {
      const file = join(dir, 'm.dtb');
      writeFileSync(file, build().blob);
      const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('riscv,isa = "rv64imafdc_zicsr_zifencei";');
      expect(r.stdout).toContain('timebase-frequency = <0x989680>;');
      expect(r.stdout).toMatch(/cpu@1 \{/);
      // Warnings dtc prints about cpus/memory/chosen would mean a malformed binding.
      expect(r.stderr).not.toMatch(/\/(cpus|memory|chosen)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
