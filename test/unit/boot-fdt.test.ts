import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FdtBuilder, FdtError, findNode, parseFdt, propCells, propStrings, propU32, propU64, FDT_MAGIC,
} from '../../lib/boot/fdt.js';

const hasDtc = spawnSync('dtc', ['--version']).status === 0;

function sampleTree(): FdtBuilder {
  const fdt = new FdtBuilder();
  fdt.root.setU32('#address-cells', 2).setU32('#size-cells', 2).setString('compatible', 'linux,dummy-virt');
  const cpus = fdt.root.addNode('cpus');
  cpus.setU32('#address-cells', 1).setU32('#size-cells', 0).setU32('timebase-frequency', 10_000_000);
  const cpu = cpus.addNode('cpu@0');
  cpu.setString('device_type', 'cpu').setU32('reg', 0).setStringList('riscv,isa-extensions', ['i', 'm', 'a', 'zicsr']);
  const intc = cpu.addNode('interrupt-controller');
  intc.setEmpty('interrupt-controller').setU32('#interrupt-cells', 1);
  const ph = intc.phandle();
  fdt.root.addNode('memory@80000000').setString('device_type', 'memory').setAddressCells('reg', [0x80000000n, 0x8000000n]);
  fdt.root.addNode('soc').setCells('interrupts-extended', [ph, 9]).setU64('big', 0x1122334455667788n);
  fdt.addReservation(0x80000000n, 0x1000n);
  return fdt;
}

describe('FDT writer/reader round trip (DTSpec v0.4 ch. 5)', () => {
  it('writes a header the reader accepts, with aligned blocks', () => {
    const blob = sampleTree().toBytes();
    const dv = new DataView(blob.buffer);
    expect(dv.getUint32(0)).toBe(FDT_MAGIC);
    expect(dv.getUint32(4)).toBe(blob.length);
    expect(dv.getUint32(8) % 4).toBe(0); // off_dt_struct
    expect(dv.getUint32(16) % 8).toBe(0); // off_mem_rsvmap
    const parsed = parseFdt(blob);
    expect(parsed.version).toBe(17);
    expect(parsed.lastCompVersion).toBe(16);
    expect(parsed.reservations).toEqual([{ address: 0x80000000n, size: 0x1000n }]);
  });

  it('reads back every property kind', () => {
    const { root } = parseFdt(sampleTree().toBytes());
    expect(propStrings(root.props.get('compatible')!)).toEqual(['linux,dummy-virt']);
    const cpu = findNode(root, '/cpus/cpu@0')!;
    expect(propStrings(cpu.props.get('riscv,isa-extensions')!)).toEqual(['i', 'm', 'a', 'zicsr']);
    expect(propU32(findNode(root, '/cpus')!.props.get('timebase-frequency')!)).toBe(10_000_000);
    const intc = findNode(root, '/cpus/cpu@0/interrupt-controller')!;
    expect(intc.props.get('interrupt-controller')!.length).toBe(0);
    const ph = propU32(intc.props.get('phandle')!);
    expect(ph).toBeGreaterThan(0);
    expect(propCells(findNode(root, '/soc')!.props.get('interrupts-extended')!)).toEqual([ph, 9]);
    expect(propU64(findNode(root, '/soc')!.props.get('big')!)).toBe(0x1122334455667788n);
    expect(propCells(findNode(root, '/memory@80000000')!.props.get('reg')!)).toEqual([0, 0x80000000, 0, 0x8000000]);
  });

  it('stores each property name once in the strings block', () => {
    const blob = sampleTree().toBytes();
    const dv = new DataView(blob.buffer);
    const off = dv.getUint32(12);
    const size = dv.getUint32(32);
    const names = new TextDecoder().decode(blob.subarray(off, off + size - 1)).split('\0');
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('#address-cells'); // used by / and /cpus
  });

  it('allocates distinct phandles and returns the same one twice for a node', () => {
    const fdt = new FdtBuilder();
    const a = fdt.root.addNode('a');
    const b = fdt.root.addNode('b');
    expect(a.phandle()).not.toBe(b.phandle());
    expect(a.phandle()).toBe(a.phandle());
  });

  it('rejects bad names and values', () => {
    const fdt = new FdtBuilder();
    expect(() => fdt.root.addNode('bad name')).toThrow(RangeError);
    fdt.root.addNode('x');
    expect(() => fdt.root.addNode('x')).toThrow(/already exists/);
    expect(() => fdt.root.setU32('v', -1)).toThrow(RangeError);
    expect(() => fdt.root.setU32('v', 2 ** 32)).toThrow(RangeError);
    expect(() => fdt.root.setString('s', 'a\0b')).toThrow(RangeError);
  });

  it('the reader names what is wrong with a corrupt blob', () => {
    const blob = sampleTree().toBytes();
    expect(() => parseFdt(blob.subarray(0, 20))).toThrow(/header/);
    const badMagic = blob.slice(); badMagic[0] = 0;
    expect(() => parseFdt(badMagic)).toThrow(/magic/);
    expect(() => parseFdt(blob.subarray(0, blob.length - 4))).toThrow(/totalsize/);
    const badToken = blob.slice();
    new DataView(badToken.buffer).setUint32(new DataView(blob.buffer).getUint32(8), 0x77);
    expect(() => parseFdt(badToken)).toThrow(FdtError);
  });

  it.skipIf(!hasDtc)('dtc decompiles the blob to the same tree (skipped without dtc on PATH)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdt-'));
    try {
      const file = join(dir, 't.dtb');
      writeFileSync(file, sampleTree().toBytes());
      const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\/memreserve\/\s+0x0000000080000000 0x0000000000001000;/);
      expect(r.stdout).toContain('compatible = "linux,dummy-virt";');
      expect(r.stdout).toContain('timebase-frequency = <0x989680>;');
      expect(r.stdout).toContain('riscv,isa-extensions = "i\\0m\\0a\\0zicsr";');
      expect(r.stdout).toMatch(/interrupt-controller;/);
      expect(r.stdout).toContain('reg = <0x00 0x80000000 0x00 0x8000000>;');
      // dtc re-encodes it: the round trip through dtc gives the same structure.
      const again = spawnSync('dtc', ['-I', 'dtb', '-O', 'dtb', file]);
      expect(again.status).toBe(0);
      const reparsed = parseFdt(new Uint8Array(again.stdout));
      expect(findNode(reparsed.root, '/cpus/cpu@0/interrupt-controller')).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FDT reader: corrupted blobs', () => {
  it('any corruption gives FdtError or a parse, never another exception or a hang', () => {
    let seed = 0x1234567;
    const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };
    const base = sampleTree().toBytes();
    for (let i = 0; i < 500; i++) {
      const b = base.slice();
      for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        parseFdt(b);
      } catch (e) {
        expect(e, `iteration ${i}: ${String(e)}`).toBeInstanceOf(FdtError);
      }
    }
  });
});
