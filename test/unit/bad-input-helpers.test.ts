// Bad arguments to the public helpers that earlier audits left out (issue 6): the device-tree
// builder, writer and reader (buildMachineFdt, describeHart & co., FdtBuilder/FdtNode, parseFdt and
// the prop readers), the boot loaders' RAM window, sink and ELF arguments, the layout helpers, the
// exit trace and statistics, device input(), GuestAddressSpace, SbiRegistry lookups and handle(),
// and SplitVirtqueue. Table-driven: TypeError for a wrong type, RangeError out of range, the message
// naming the argument and the value, and nothing lost or changed afterwards (no bytes written,
// nothing queued, nothing counted, a good call still gives what it gave before).
import { describe, expect, it } from 'vitest';
import { ArrayBufferGuestMemory } from '../../lib/backend/guest-memory.js';
import type { VcpuExit } from '../../lib/backend/types.js';
import { loadElf, loadFlat, loadKernelImage, loadLinuxImage, parseElf, type ElfImage } from '../../lib/boot/elf.js';
import { FdtBuilder, FdtNode, findNode, parseFdt, propCells, propStrings, propU32, propU64 } from '../../lib/boot/fdt.js';
import { describeHart, isaExtensionList, isaString, mmuType, readTimebaseFrequency, type HartDescription } from '../../lib/boot/hart-description.js';
import { placeInitrd } from '../../lib/boot/initrd.js';
import { fdtAddress, KERNEL_LOAD_ADDRESS, RAM_BASE, virtioMmioBase } from '../../lib/boot/layout.js';
import { buildMachineFdt, type MachineFdtOptions } from '../../lib/boot/machine-fdt.js';
import { Ns16550a } from '../../lib/devices/ns16550a.js';
import { VirtioConsole } from '../../lib/devices/virtio/console.js';
import { SplitVirtqueue } from '../../lib/devices/virtio/virtqueue.js';
import { GuestAddressSpace } from '../../lib/sbi/guest-memory.js';
import { SbiRegistry } from '../../lib/sbi/registry.js';
import type { ExitOutcome } from '../../lib/vmm/dispatch.js';
import { ExitStatistics, sbiExtensionLabel, traceRecord } from '../../lib/vmm/exit-trace.js';
import { expectThrows } from '../support/thrown.js';



const bits = (letters: string): bigint => [...letters].reduce((b, c) => b | (1n << BigInt(c.charCodeAt(0) - 97)), 0n);
const hart = (hartId: number): HartDescription => ({ hartId, isaBits: bits('imafdc'), multiLetterExtensions: ['zicsr', 'zifencei'], satpMode: 8 });

describe('buildMachineFdt', () => {
  let writerCalls = 0;
  const good = (): MachineFdtOptions => ({
    harts: [hart(0), hart(1)], timebaseFrequency: 10_000_000, ram: { base: RAM_BASE, size: 64 << 20 },
    bootargs: 'console=hvc0', initrd: { start: 0x8400_0000n, end: 0x8400_1000n }, rngSeed: new Uint8Array(8).fill(7),
    nodeWriters: [({ root }) => { writerCalls++; root.addNode('soc'); }],
  });
  const reference = buildMachineFdt(good()).blob;
  type Opts = Record<string, unknown>;
  it.each([
    ['null', () => null, TypeError, /^buildMachineFdt: options must be an object, got null$/],
    ['{}', () => ({}), TypeError, /^buildMachineFdt: harts must be an array, got undefined$/],
    ['a string', () => 'opts', TypeError, /options must be an object, got 'opts'/],
    ['harts empty', (o: Opts) => ({ ...o, harts: [] }), RangeError, /at least one hart \(harts is empty\)/],
    ['harts[1] null', (o: Opts) => ({ ...o, harts: [hart(0), null] }), TypeError, /harts\[1\] must be a HartDescription object, got null/],
    ['a hart id as a string', (o: Opts) => ({ ...o, harts: [{ ...hart(0), hartId: '0' }] }), TypeError, /harts\[0\]\.hartId must be a number, got '0'/],
    ['a hart id -1', (o: Opts) => ({ ...o, harts: [{ ...hart(0), hartId: -1 }] }), RangeError, /harts\[0\]\.hartId must be an integer in \[0, 4294967295\], got -1/],
    ['a hart id twice', (o: Opts) => ({ ...o, harts: [hart(1), hart(1)] }), RangeError, /harts\[1\]\.hartId 1 is given twice/],
    ['isaBits a number', (o: Opts) => ({ ...o, harts: [{ ...hart(0), isaBits: 0x1129 }] }), TypeError, /harts\[0\]\.isaBits must be a bigint \(config\.isa\), got 4393/],
    ['extensions a string', (o: Opts) => ({ ...o, harts: [{ ...hart(0), multiLetterExtensions: 'zicsr' }] }), TypeError, /harts\[0\]\.multiLetterExtensions must be an array, got 'zicsr'/],
    ['an extension name with _', (o: Opts) => ({ ...o, harts: [{ ...hart(0), multiLetterExtensions: ['zicsr_zba'] }] }), RangeError, /multiLetterExtensions\[0\] 'zicsr_zba' is not a multi-letter extension name/],
    ['satpMode 16', (o: Opts) => ({ ...o, harts: [{ ...hart(0), satpMode: 16 }] }), RangeError, /harts\[0\]\.satpMode must be an integer in \[0, 15\], got 16/],
    ['cbomBlockSize as a string', (o: Opts) => ({ ...o, harts: [{ ...hart(0), cbomBlockSize: '64' }] }), TypeError, /harts\[0\]\.cbomBlockSize must be a number, got '64'/],
    ['timebase as a bigint', (o: Opts) => ({ ...o, timebaseFrequency: 10_000_000n }), TypeError, /timebaseFrequency must be a number, got 10000000n/],
    ['timebase 0', (o: Opts) => ({ ...o, timebaseFrequency: 0 }), RangeError, /timebaseFrequency must be an integer in \[1, 4294967295\], got 0/],
    ['timebase 2^32', (o: Opts) => ({ ...o, timebaseFrequency: 2 ** 32 }), RangeError, /got 4294967296/],
    ['ram null', (o: Opts) => ({ ...o, ram: null }), TypeError, /ram must be an object \{ base, size \}, got null/],
    ['ram.base a number', (o: Opts) => ({ ...o, ram: { base: 0x8000_0000, size: 4096 } }), TypeError, /ram\.base must be a bigint, got 2147483648/],
    ['ram.size a bigint', (o: Opts) => ({ ...o, ram: { base: RAM_BASE, size: 4096n } }), TypeError, /ram\.size must be a number, got 4096n/],
    ['ram.size 0', (o: Opts) => ({ ...o, ram: { base: RAM_BASE, size: 0 } }), RangeError, /ram\.size must be an integer in \[1, 9007199254740991\], got 0/],
    ['ram past 2^64', (o: Opts) => ({ ...o, ram: { base: 0xffff_ffff_ffff_f000n, size: 0x2000 } }), RangeError, /ram \[0xfffffffffffff000, \+8192\) runs past 2\^64/],
    ['bootargs a number', (o: Opts) => ({ ...o, bootargs: 42 }), TypeError, /bootargs must be a string, got 42/],
    ['stdoutPath null', (o: Opts) => ({ ...o, stdoutPath: null }), TypeError, /stdoutPath must be a string, got null/],
    ['model an object', (o: Opts) => ({ ...o, model: {} }), TypeError, /model must be a string, got an object \(Object\)/],
    ['initrd an array', (o: Opts) => ({ ...o, initrd: [1n, 2n] }), TypeError, /initrd must be an object \{ start, end \}, got an array/],
    ['initrd.start a number', (o: Opts) => ({ ...o, initrd: { start: 0x8400_0000, end: 0x8400_1000n } }), TypeError, /initrd\.start must be a bigint, got 2214592512/],
    ['initrd end below start', (o: Opts) => ({ ...o, initrd: { start: 0x8400_1000n, end: 0x8400_0000n } }), RangeError, /initrd\.end 0x84000000 is below initrd\.start 0x84001000/],
    ['rngSeed an array', (o: Opts) => ({ ...o, rngSeed: [1, 2, 3] }), TypeError, /rngSeed must be a Uint8Array, got an array/],
    ['nodeWriters a function', (o: Opts) => ({ ...o, nodeWriters: () => {} }), TypeError, /nodeWriters must be an array, got a function/],
    ['nodeWriters[0] null', (o: Opts) => ({ ...o, nodeWriters: [null] }), TypeError, /nodeWriters\[0\] must be a function, got null/],
  ] as const)('%s', (_what, make, cls, message) => {
    writerCalls = 0;
    expectThrows(() => buildMachineFdt((make as (o: Opts) => unknown)(good() as unknown as Opts) as MachineFdtOptions), cls, message);
    expect(writerCalls, 'no node writer ran for a refused call').toBe(0);
    // A good call afterwards gives the same blob as before the bad one.
    expect(buildMachineFdt(good()).blob).toEqual(reference);
    expect(writerCalls).toBe(1);
  });
});

describe('describeHart, readTimebaseFrequency, isaString, isaExtensionList', () => {
  const reader = { id: 0, getReg: () => 0n };
  it.each([
    ['describeHart(null)', () => describeHart(null as never), TypeError, /^describeHart: vcpu must be an object with getReg\(\), got null$/],
    ['describeHart({})', () => describeHart({} as never), TypeError, /describeHart: vcpu must be an object with getReg\(\); its getReg is undefined/],
    ['describeHart(an id as a string)', () => describeHart({ ...reader, id: '0' } as never), TypeError, /describeHart: vcpu\.id must be a number, got '0'/],
    ['describeHart(an id 1.5)', () => describeHart({ ...reader, id: 1.5 }), RangeError, /describeHart: vcpu\.id must be an integer in \[0, 4294967295\], got 1\.5/],
    ['readTimebaseFrequency({})', () => readTimebaseFrequency({} as never), TypeError, /^readTimebaseFrequency: vcpu must be an object with getReg\(\); its getReg is undefined$/],
    ['readTimebaseFrequency(a number)', () => readTimebaseFrequency(3 as never), TypeError, /vcpu must be an object with getReg\(\), got 3/],
    ['isaString(null)', () => isaString(null as never), TypeError, /^isaString: desc must be a HartDescription object, got null$/],
    ['isaString(no isaBits)', () => isaString({ hartId: 0, multiLetterExtensions: [] } as never), TypeError, /isaString: desc\.isaBits must be a bigint \(config\.isa\), got undefined/],
    ['isaString(an extension 5)', () => isaString({ ...hart(0), multiLetterExtensions: [5] } as never), TypeError, /desc\.multiLetterExtensions\[0\] must be a string, got 5/],
    ['isaString(xlen 65)', () => isaString(hart(0), 65), RangeError, /isaString: xlen must be 32, 64 or 128, got 65/],
    ['isaString(xlen \'64\')', () => isaString(hart(0), '64' as never), TypeError, /isaString: xlen must be a number, got '64'/],
    ['mmuType(\'9\')', () => mmuType('9' as never), TypeError, /^mmuType: satpMode must be a number or undefined, got '9'$/],
    ['mmuType(null)', () => mmuType(null as never), TypeError, /mmuType: satpMode must be a number or undefined, got null/],
    ['isaExtensionList([])', () => isaExtensionList([] as never), TypeError, /isaExtensionList: desc must be a HartDescription object, got an array/],
  ] as const)('%s', (_what, fn, cls, message) => {
    expectThrows(fn, cls, message);
    // The good forms still answer.
    expect(isaString(hart(0))).toBe('rv64imafdc_zicsr_zifencei');
    expect(readTimebaseFrequency({ id: 0, getReg: () => 10_000_000n })).toBe(10_000_000);
    expect([9, 12, undefined].map(mmuType)).toEqual(['riscv,sv48', 'riscv,sv39', 'riscv,sv39']);
  });
});

describe('FdtBuilder and FdtNode', () => {
  /** A tree with some content, and its blob before the bad call. */
  const setUp = () => {
    const fdt = new FdtBuilder();
    const node = fdt.root.addNode('soc');
    node.setU32('reg', 1).setString('compatible', 'x');
    return { fdt, node, before: fdt.toBytes() };
  };
  it.each([
    ['addNode(123)', (n: FdtNode) => n.addNode(123 as never), TypeError, /^node name must be a string, got 123$/],
    ['addNode(null)', (n: FdtNode) => n.addNode(null as never), TypeError, /node name must be a string, got null/],
    ['addNode(\'a b\')', (n: FdtNode) => n.addNode('a b'), RangeError, /invalid node name 'a b'/],
    ['setBytes(null, bytes)', (n: FdtNode) => n.setBytes(null as never, new Uint8Array(1)), TypeError, /^property name must be a string, got null$/],
    ['setBytes(\'p\', [300])', (n: FdtNode) => n.setBytes('p', [300] as never), TypeError, /^p: value must be a Uint8Array, got an array$/],
    ['setBytes(\'p\', \'abc\')', (n: FdtNode) => n.setBytes('p', 'abc' as never), TypeError, /p: value must be a Uint8Array, got 'abc'/],
    ['setBytes(\'a b\', bytes)', (n: FdtNode) => n.setBytes('a b', new Uint8Array(1)), RangeError, /invalid property name 'a b'/],
    ['setEmpty(undefined)', (n: FdtNode) => n.setEmpty(undefined as never), TypeError, /property name must be a string, got undefined/],
    ['setU32(\'reg\', \'5\')', (n: FdtNode) => n.setU32('reg', '5' as never), TypeError, /^reg\[0\]: a cell must be a number, got '5'$/],
    ['setU32(\'reg\', 5n)', (n: FdtNode) => n.setU32('reg', 5n as never), TypeError, /reg\[0\]: a cell must be a number, got 5n/],
    ['setU32(\'reg\', -1)', (n: FdtNode) => n.setU32('reg', -1), RangeError, /reg\[0\]: -1 is not a u32/],
    ['setU64(\'x\', \'12\')', (n: FdtNode) => n.setU64('x', '12' as never), TypeError, /^x: a u64 must be a number or bigint, got '12'$/],
    ['setU64(\'x\', 1.5)', (n: FdtNode) => n.setU64('x', 1.5), RangeError, /x: 1\.5 is not a u64 \(a number must be a safe integer/],
    ['setU64(\'x\', NaN)', (n: FdtNode) => n.setU64('x', NaN), RangeError, /x: NaN is not a u64/],
    ['setU64(\'x\', 2^64)', (n: FdtNode) => n.setU64('x', 1n << 64n), RangeError, /x: 18446744073709551616n is not a u64/],
    ['setCells(\'c\', null)', (n: FdtNode) => n.setCells('c', null as never), TypeError, /^c: cells must be an array of numbers, got null$/],
    ['setCells(\'c\', [1, undefined])', (n: FdtNode) => n.setCells('c', [1, undefined] as never), TypeError, /c\[1\]: a cell must be a number, got undefined/],
    ['setAddressCells(\'r\', 5n)', (n: FdtNode) => n.setAddressCells('r', 5n as never), TypeError, /r: values must be an array of numbers or bigints, got 5n/],
    ['setAddressCells(\'r\', [null])', (n: FdtNode) => n.setAddressCells('r', [null] as never), TypeError, /r: a u64 must be a number or bigint, got null/],
    ['setAddressCells(\'r\', [1], 3)', (n: FdtNode) => n.setAddressCells('r', [1], 3 as never), RangeError, /r: cellsPerValue must be 1 or 2, got 3/],
    ['setString(\'s\', 5)', (n: FdtNode) => n.setString('s', 5 as never), TypeError, /^s\[0\]: a string value must be a string, got 5$/],
    ['setString(\'s\', \'a\\0b\')', (n: FdtNode) => n.setString('s', 'a\0b'), RangeError, /s: string contains NUL/],
    ['setStringList(\'s\', \'abc\')', (n: FdtNode) => n.setStringList('s', 'abc' as never), TypeError, /s: values must be an array of strings, got 'abc'/],
    ['setStringList(\'s\', [\'a\', null])', (n: FdtNode) => n.setStringList('s', ['a', null] as never), TypeError, /s\[1\]: a string value must be a string, got null/],
    ['child(null)', (n: FdtNode) => n.child(null as never), TypeError, /child: node name must be a string, got null/],
    ['getProp(1)', (n: FdtNode) => n.getProp(1 as never), TypeError, /getProp: property name must be a string, got 1/],
  ] as const)('%s', (_what, fn, cls, message) => {
    const { fdt, node, before } = setUp();
    expectThrows(() => fn(node), cls, message);
    expect(fdt.toBytes(), 'the tree is as it was').toEqual(before);
  });

  it('phandle() of a node whose phandle was set by hand to 1 byte: RangeError, no phandle allocated', () => {
    const fdt = new FdtBuilder();
    const intc = fdt.root.addNode('intc').setBytes('phandle', Uint8Array.of(1));
    expectThrows(() => intc.phandle(), RangeError, /^intc: its phandle property is 1 bytes, not one u32 cell$/);
    expect(fdt.root.addNode('other').phandle(), 'the next phandle is still the first').toBe(1);
  });

  it.each([
    ['addReservation(\'0x1000\', 4096)', (f: FdtBuilder) => f.addReservation('0x1000' as never, 4096), TypeError, /reservation address: a u64 must be a number or bigint, got '0x1000'/],
    ['addReservation(0, -1n)', (f: FdtBuilder) => f.addReservation(0, -1n), RangeError, /reservation size: -1n is not a u64/],
    ['bootCpuidPhys = \'1\'', (f: FdtBuilder) => { f.bootCpuidPhys = '1' as never; f.toBytes(); }, TypeError, /bootCpuidPhys: a cell must be a number, got '1'/],
    ['bootCpuidPhys = 2^32', (f: FdtBuilder) => { f.bootCpuidPhys = 2 ** 32; f.toBytes(); }, RangeError, /bootCpuidPhys: 4294967296 is not a u32/],
    ['new FdtNode(null, \'x\')', () => new FdtNode(null as never, 'x'), TypeError, /FdtNode: owner must be an FdtBuilder .*got null/],
    ['new FdtNode(builder, 5)', (f: FdtBuilder) => new FdtNode(f, 5 as never), TypeError, /FdtNode: name must be a string, got 5/],
  ] as const)('%s', (_what, fn, cls, message) => {
    const { fdt, before } = setUp();
    expectThrows(() => fn(fdt), cls, message);
    fdt.bootCpuidPhys = 0;
    expect(fdt.toBytes()).toEqual(before);
  });
});

describe('parseFdt, findNode and the prop readers', () => {
  const fdt = new FdtBuilder();
  fdt.root.addNode('cpus').setU32('n', 7);
  const blob = fdt.toBytes();
  it.each([
    ['parseFdt(null)', () => parseFdt(null as never), TypeError, /^parseFdt: blob must be a Uint8Array, got null$/],
    ['parseFdt(an ArrayBuffer)', () => parseFdt(blob.buffer as never), TypeError, /parseFdt: blob must be a Uint8Array, got an object \(ArrayBuffer\)/],
    ['parseFdt(a path)', () => parseFdt('board.dtb' as never), TypeError, /got 'board\.dtb'/],
    ['findNode(null, path)', () => findNode(null as never, '/cpus'), TypeError, /^findNode: root must be a parsed node \(parseFdt\(\.\.\.\)\.root\), got null$/],
    ['findNode(root, 5)', () => findNode(parseFdt(blob).root, 5 as never), TypeError, /findNode: path must be a string, got 5/],
    ['propU32(undefined)', () => propU32(undefined as never), TypeError, /^propU32: value must be a Uint8Array, got undefined$/],
    ['propU32(value, \'1\')', () => propU32(new Uint8Array(8), '1' as never), TypeError, /propU32: index must be a number, got '1'/],
    ['propU32(value, -1)', () => propU32(new Uint8Array(8), -1), RangeError, /propU32: index must be a non-negative integer, got -1/],
    ['propU64(value, 0.5)', () => propU64(new Uint8Array(16), 0.5), RangeError, /propU64: index must be a non-negative integer, got 0\.5/],
    ['propCells([0, 0, 0, 1])', () => propCells([0, 0, 0, 1] as never), TypeError, /propCells: value must be a Uint8Array, got an array/],
    ['propStrings(\'abc\')', () => propStrings('abc' as never), TypeError, /propStrings: value must be a Uint8Array, got 'abc'/],
  ] as const)('%s', (_what, fn, cls, message) => {
    expectThrows(fn, cls, message);
    expect(propU32(findNode(parseFdt(blob).root, '/cpus')!.props.get('n')!)).toBe(7);
  });
});

describe('boot loaders: the RAM window, the sink, the ELF', () => {
  const ram = { base: RAM_BASE, size: 16 << 20 };
  const sink = { writes: 0, writeBytes() { this.writes++; }, fill() { this.writes++; } };
  const flat = new Uint8Array(64).fill(0x13);
  // A minimal ELF64 RISC-V ET_EXEC with one PT_LOAD of 4 bytes at RAM + 2 MiB (gABI "ELF header",
  // "Program header"), so loadElf has a real parse to compare against.
  const elfBytes = (() => {
    const b = new Uint8Array(64 + 56 + 4);
    const dv = new DataView(b.buffer);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    dv.setUint16(16, 2, true); dv.setUint16(18, 243, true); dv.setUint32(20, 1, true);
    dv.setBigUint64(24, KERNEL_LOAD_ADDRESS, true); dv.setBigUint64(32, 64n, true);
    dv.setUint16(54, 56, true); dv.setUint16(56, 1, true);
    dv.setUint32(64, 1, true); dv.setUint32(68, 5, true); dv.setBigUint64(72, 120n, true);
    dv.setBigUint64(80, KERNEL_LOAD_ADDRESS, true); dv.setBigUint64(88, KERNEL_LOAD_ADDRESS, true);
    dv.setBigUint64(96, 4n, true); dv.setBigUint64(104, 8n, true);
    return b;
  })();
  const elf = parseElf(elfBytes);
  const seg = elf.segments[0]!;
  const badElf = (segments: unknown[]): ElfImage => ({ entry: elf.entry, segments } as unknown as ElfImage);
  it.each([
    ['loadKernelImage(img, null, null)', () => loadKernelImage(flat, null as never, null as never), TypeError, /^loadKernelImage: ram must be an object \{ base, size \}, got null$/],
    ['loadKernelImage(img, ram, null)', () => loadKernelImage(flat, ram, null as never), TypeError, /^loadKernelImage: sink must be an object with writeBytes\(\), fill\(\), got null$/],
    ['loadKernelImage(img, ram, a sink without fill)', () => loadKernelImage(flat, ram, { writeBytes() {} } as never), TypeError, /loadKernelImage: sink must be an object with writeBytes\(\), fill\(\); its fill is undefined/],
    ['loadKernelImage(ELF, {base: number})', () => loadKernelImage(elfBytes, { base: 0x8000_0000, size: 16 << 20 } as never, sink), TypeError, /loadKernelImage: ram\.base must be a bigint, got 2147483648/],
    ['loadKernelImage(img, {size: -1})', () => loadKernelImage(flat, { base: RAM_BASE, size: -1 }, sink), RangeError, /loadKernelImage: ram\.size must be an integer in \[0, 9007199254740991\], got -1/],
    ['loadFlat(img, ram, sink, a number address)', () => loadFlat(flat, ram, sink, 0x8020_0000 as never), TypeError, /loadFlat: address must be a bigint, got 2149580800/],
    ['loadFlat(img, ram, sink, -1n)', () => loadFlat(flat, ram, sink, -1n), RangeError, /loadFlat: address must be a u64, got -1n/],
    ['loadFlat(img, \'ram\', sink)', () => loadFlat(flat, 'ram' as never, sink), TypeError, /loadFlat: ram must be an object \{ base, size \}, got 'ram'/],
    ['loadLinuxImage(null, ram, sink)', () => loadLinuxImage(null as never, ram, sink), TypeError, /image must be a Uint8Array of the file's bytes, got null/],
    ['loadLinuxImage(img, ram, {})', () => loadLinuxImage(flat, ram, {} as never), TypeError, /loadLinuxImage: sink must be an object with writeBytes\(\), fill\(\); its writeBytes is undefined/],
    ['loadElf(bytes, null, ram, sink)', () => loadElf(elfBytes, null as never, ram, sink), TypeError, /^loadElf: elf must be an object \{ entry, segments \} \(from parseElf\), got null$/],
    ['loadElf(bytes, {entry: 0})', () => loadElf(elfBytes, { entry: 0, segments: elf.segments } as never, ram, sink), TypeError, /loadElf: elf\.entry must be a bigint, got 0/],
    ['loadElf(bytes, no segments)', () => loadElf(elfBytes, badElf([]), ram, sink), RangeError, /loadElf: elf\.segments is empty: nothing to load/],
    ['loadElf(bytes, a null segment)', () => loadElf(elfBytes, badElf([null]), ram, sink), TypeError, /loadElf: elf\.segments\[0\] must be an object .*got null/],
    ['loadElf(bytes past the file)', () => loadElf(elfBytes, badElf([{ ...seg, fileOffset: 200 }]), ram, sink), RangeError, /loadElf: elf\.segments\[0\]\.fileOffset must be an integer in \[0, 124\], got 200/],
    ['loadElf(fileSize past the file)', () => loadElf(elfBytes, badElf([{ ...seg, fileSize: 10 }]), ram, sink), RangeError, /elf\.segments\[0\]\.fileSize must be an integer in \[0, 4\], got 10/],
    ['loadElf(memSize < fileSize)', () => loadElf(elfBytes, badElf([{ ...seg, memSize: 2 }]), ram, sink), RangeError, /elf\.segments\[0\]\.memSize must be an integer in \[4, 4294967295\], got 2/],
    ['loadElf(paddr a number)', () => loadElf(elfBytes, badElf([{ ...seg, paddr: 0x8020_0000 }]), ram, sink), TypeError, /elf\.segments\[0\]\.paddr must be a bigint, got 2149580800/],
    ['loadElf(bytes, elf, null, sink)', () => loadElf(elfBytes, elf, null as never, sink), TypeError, /loadElf: ram must be an object/],
  ] as const)('%s: refused, nothing written', (_what, fn, cls, message) => {
    sink.writes = 0;
    expectThrows(fn, cls, message);
    expect(sink.writes).toBe(0);
    // The good call still loads.
    expect(loadKernelImage(elfBytes, ram, sink)).toMatchObject({ kind: 'elf', entry: KERNEL_LOAD_ADDRESS });
    expect(sink.writes).toBe(2); // the 4 file bytes and the 4-byte .bss tail
  });

  it.each([
    ['placeInitrd(\'16M\', ...)', () => placeInitrd('16M' as never, 4096, 0x8030_0000n, 0x80e0_0000n), TypeError, /placeInitrd: RAM size must be a number of bytes, got '16M'/],
    ['placeInitrd(..., imageEnd a number)', () => placeInitrd(16 << 20, 4096, 0x8030_0000 as never, 0x80e0_0000n), TypeError, /placeInitrd: imageEnd must be a bigint, got 2150629376/],
    ['placeInitrd(..., fdtAddr null)', () => placeInitrd(16 << 20, 4096, 0x8030_0000n, null as never), TypeError, /placeInitrd: fdtAddr must be a bigint, got null/],
    ['fdtAddress(NaN, ...)', () => fdtAddress(NaN, 4096, 0x8030_0000n), RangeError, /fdtAddress: ramSize must be an integer in \[1, 9007199254740991\], got NaN/],
    ['fdtAddress(ram, \'4096\', ...)', () => fdtAddress(16 << 20, '4096' as never, 0x8030_0000n), TypeError, /fdtAddress: fdtSize must be a number, got '4096'/],
    ['fdtAddress(ram, 1.5, ...)', () => fdtAddress(16 << 20, 1.5, 0x8030_0000n), RangeError, /fdtAddress: fdtSize must be an integer .*got 1\.5/],
    ['fdtAddress(ram, size, undefined)', () => fdtAddress(16 << 20, 4096, undefined as never), TypeError, /fdtAddress: imageEnd must be a bigint, got undefined/],
    ['virtioMmioBase(\'1\')', () => virtioMmioBase('1' as never), TypeError, /virtioMmioBase: index must be a number, got '1'/],
    ['virtioMmioBase(8)', () => virtioMmioBase(8), RangeError, /virtio-mmio index 8 is not 0\.\.7/],
  ] as const)('%s', (_what, fn, cls, message) => {
    expectThrows(fn, cls, message);
    expect(placeInitrd(16 << 20, 4096, 0x8030_0000n, 0x80e0_0000n)).toEqual({ start: 0x80df_f000n, end: 0x80e0_0000n });
    expect(fdtAddress(16 << 20, 4096, 0x8030_0000n)).toBe(0x80e0_0000n);
    expect(virtioMmioBase(1)).toBe(0x1000_2000n);
  });
});

describe('exit trace and statistics', () => {
  const sbiExit: VcpuExit = { reason: 'sbi', extensionId: 0x4442434e, functionId: 0n, args: [1n, 2n, 3n, 0n, 0n, 0n], ret: [0n, 0n] };
  const mmioExit: VcpuExit = { reason: 'mmio', address: 0x1000_0000n, length: 1, isWrite: true, data: Uint8Array.of(0x41, 0, 0, 0, 0, 0, 0, 0) };
  const resume: ExitOutcome = { action: 'resume', completion: { kind: 'sbi', error: 0n, value: 3n } };
  const stop: ExitOutcome = { action: 'stop', stop: { kind: 'shutdown', reason: 0n } };
  it.each([
    ['exit null', [1, 0, null, resume], TypeError, /^traceRecord: exit must be a VcpuExit object, got null$/],
    ['exit a string', [1, 0, 'sbi', resume], TypeError, /traceRecord: exit must be a VcpuExit object, got 'sbi'/],
    ['no reason', [1, 0, {}, resume], TypeError, /traceRecord: exit\.reason must be a string, got undefined/],
    ['an unknown reason', [1, 0, { reason: 'hlt' }, resume], RangeError, /traceRecord: exit\.reason 'hlt' is not a VcpuExit reason \(sbi, system_event/],
    ['an SBI exit with a string EID', [1, 0, { ...sbiExit, extensionId: 'x' }, resume], TypeError, /traceRecord: exit\.extensionId must be a number, got 'x'/],
    ['an SBI exit without args', [1, 0, { ...sbiExit, args: undefined }, resume], TypeError, /traceRecord: exit\.args must be an array of bigints, got undefined/],
    ['an SBI exit with a number arg', [1, 0, { ...sbiExit, args: [1n, 2] }, resume], TypeError, /traceRecord: exit\.args\[1\] must be a bigint, got 2/],
    ['an MMIO write without data', [1, 0, { ...mmioExit, data: null }, resume], TypeError, /traceRecord: exit\.data must be a Uint8Array, got null/],
    ['an MMIO address as a number', [1, 0, { ...mmioExit, address: 0x1000_0000 }, resume], TypeError, /traceRecord: exit\.address must be a bigint, got 268435456/],
    ['a CSR exit without a mask', [1, 0, { reason: 'csr', csrNum: 0x15, newValue: 0n }, resume], TypeError, /traceRecord: exit\.writeMask must be a bigint, got undefined/],
    ['a system event with data null', [1, 0, { reason: 'system_event', type: 'shutdown', typeCode: 1, data: null }, stop], TypeError, /traceRecord: exit\.data must be an array of bigints, got null/],
    ['outcome null', [1, 0, sbiExit, null], TypeError, /^traceRecord: outcome must be an ExitOutcome object, got null$/],
    ['outcome with no action', [1, 0, sbiExit, {}], RangeError, /traceRecord: outcome\.action must be 'resume' or 'stop', got undefined/],
    ['resume without a completion', [1, 0, sbiExit, { action: 'resume' }], TypeError, /traceRecord: outcome\.completion must be an object, got undefined/],
    ['an SBI completion with a number error', [1, 0, sbiExit, { action: 'resume', completion: { kind: 'sbi', error: 0, value: 0n } }], TypeError, /outcome\.completion\.error must be a bigint, got 0/],
    ['an unknown completion kind', [1, 0, sbiExit, { action: 'resume', completion: { kind: 'pio' } }], RangeError, /outcome\.completion\.kind 'pio' is not sbi, mmio_load, mmio_store or csr/],
    ['stop without a stop', [1, 0, sbiExit, { action: 'stop' }], TypeError, /traceRecord: outcome\.stop must be an object, got undefined/],
    ['t a string', ['1', 0, sbiExit, resume], TypeError, /traceRecord: t must be a number of milliseconds, got '1'/],
    ['t NaN', [NaN, 0, sbiExit, resume], RangeError, /traceRecord: t must be finite, got NaN/],
    ['hart -1', [1, -1, sbiExit, resume], RangeError, /traceRecord: hartId must be an integer in \[0, 4294967295\], got -1/],
    ['hart null', [1, null, sbiExit, resume], TypeError, /traceRecord: hartId must be a number, got null/],
  ] as const)('traceRecord: %s', (_what, args, cls, message) => {
    expectThrows(() => (traceRecord as (...a: unknown[]) => unknown)(...args), cls, message);
    expect(traceRecord(1.5, 0, sbiExit, resume)).toEqual({ t: 1.5, hart: 0, reason: 'sbi', eid: '0x4442434e', fid: '0x0', args: ['0x1', '0x2', '0x3', '0x0', '0x0', '0x0'], ret: ['0x0', '0x3'] });
    expect(traceRecord(2, 1, mmioExit, { action: 'resume', completion: { kind: 'mmio_store' } })).toMatchObject({ address: '0x10000000', data: '0x41' });
  });

  it.each([
    ['null', null, TypeError, /^ExitStatistics\.record: exit must be a VcpuExit object, got null$/],
    ['undefined', undefined, TypeError, /exit must be a VcpuExit object, got undefined/],
    ['a reason that is a number', { reason: 7 }, TypeError, /ExitStatistics\.record: exit\.reason must be a string, got 7/],
    ['an unknown reason', { reason: 'io' }, RangeError, /ExitStatistics\.record: exit\.reason 'io' is not a VcpuExit reason/],
    ['an SBI exit with a string EID', { reason: 'sbi', extensionId: '0x10' }, TypeError, /ExitStatistics\.record: exit\.extensionId must be a number, got '0x10'/],
    ['an SBI exit with EID -1', { reason: 'sbi', extensionId: -1 }, RangeError, /exit\.extensionId must be an integer in \[0, 18446744073709552000\], got -1/],
  ] as const)('ExitStatistics.record(%s): nothing counted', (_what, exit, cls, message) => {
    const s = new ExitStatistics();
    s.record(sbiExit);
    const before = s.format();
    expectThrows(() => s.record(exit as never), cls, message);
    expect(s.total).toBe(1);
    expect(s.format()).toBe(before);
    // A guest's a7 beyond 32 bits is counted, never refused: the table must not throw on it.
    s.record({ ...sbiExit, extensionId: 2 ** 40 });
    expect(s.sbiByExtension.get('0x10000000000')).toBe(1);
  });

  it.each([
    ['\'x\'', 'x', TypeError, /^sbiExtensionLabel: eid must be a number, got 'x'$/],
    ['a bigint', 0x10n, TypeError, /sbiExtensionLabel: eid must be a number, got 16n/],
    ['NaN', NaN, RangeError, /sbiExtensionLabel: eid must be an integer .*got NaN/],
    ['-1', -1, RangeError, /got -1/],
    ['1.5', 1.5, RangeError, /got 1\.5/],
  ] as const)('sbiExtensionLabel(%s)', (_what, eid, cls, message) => {
    expectThrows(() => sbiExtensionLabel(eid as never), cls, message);
    expect(sbiExtensionLabel(0x10)).toBe('BASE');
    expect(sbiExtensionLabel(0x0900_0001)).toBe('vendor 0x9000001');
  });

  it('ExitStatistics.format(a string) is refused', () => {
    expectThrows(() => new ExitStatistics().format('5' as never), TypeError, /ExitStatistics\.format: seconds must be a number, got '5'/);
  });
});

describe('device input()', () => {
  const devices = () => {
    let kicks = 0;
    const uart = new Ns16550a({ irqNumber: 10 });
    const hvc = new VirtioConsole();
    hvc.attach(() => { kicks++; });
    uart.input([0x61]);
    hvc.input([0x61]);
    return { uart, hvc, kicks: () => kicks };
  };
  it.each([
    ['null', null, TypeError, /data must be a Uint8Array or an array of byte values, got null/],
    ['undefined', undefined, TypeError, /got undefined/],
    ['a string', 'hello', TypeError, /got 'hello' \(encode a string first: Buffer\.from\(s\) or new TextEncoder\(\)\.encode\(s\)\)/],
    ['a number', 65, TypeError, /got 65/],
    ['an ArrayBuffer', new ArrayBuffer(4), TypeError, /got an object \(ArrayBuffer\)/],
    ['a Uint16Array', Uint16Array.of(0x141), TypeError, /got an object \(Uint16Array\)/],
    ['an array holding a string', [0x41, '1'], TypeError, /data\[1\] must be a byte value \(a number\), got '1'/],
    ['an array holding null', [null], TypeError, /data\[0\] must be a byte value \(a number\), got null/],
    ['an array holding 256', [0x41, 0x42, 256], RangeError, /data\[2\] must be a byte value in \[0, 255\], got 256/],
    ['an array holding -1', [-1], RangeError, /data\[0\] must be a byte value in \[0, 255\], got -1/],
    ['an array holding 1.5', [1.5], RangeError, /got 1\.5/],
  ] as const)('%s: refused, nothing queued', (_what, data, cls, message) => {
    const d = devices();
    expectThrows(() => d.uart.input(data as never), cls, new RegExp(`^Ns16550a\\.input: .*${message.source}`));
    expectThrows(() => d.hvc.input(data as never), cls, new RegExp(`^VirtioConsole\\.input: .*${message.source}`));
    expect(d.uart.rxCount()).toBe(1);
    expect(d.hvc.pendingInput).toBe(1);
    expect(d.kicks()).toBe(1);
    // Still take good input, byte arrays and Buffers alike.
    expect(d.uart.input(Buffer.from('bc'))).toBe(2);
    expect(d.hvc.input([0x62, 0x63])).toBe(2);
    expect([d.uart.rxCount(), d.hvc.pendingInput, d.kicks()]).toEqual([3, 3, 2]);
  });
});

describe('GuestAddressSpace', () => {
  const ram = new ArrayBufferGuestMemory(0, RAM_BASE, 4096, false, new ArrayBuffer(4096));
  it.each([
    ['null', null, TypeError, /^GuestAddressSpace: regions must be an array of GuestMemory or a function returning one, got null$/],
    ['a string', 'x', TypeError, /regions must be an array .*got 'x'/],
    ['a GuestMemory, not in an array', ram, TypeError, /regions must be an array .*got an object \(Object\)/],
    ['an array holding null', [ram, null], TypeError, /GuestAddressSpace: regions\[1\] must be an object with readBytes\(\), writeBytes\(\), got null/],
    ['a region without readBytes', [{ guestPhysAddr: RAM_BASE, size: 4096, writeBytes() {} }], TypeError, /regions\[0\] must be an object with readBytes\(\), writeBytes\(\); its readBytes is undefined/],
    ['a region at a number address', [{ guestPhysAddr: 0x8000_0000, size: 4096, readBytes() {}, writeBytes() {} }], TypeError, /regions\[0\]\.guestPhysAddr must be a bigint, got 2147483648/],
    ['a region of size -1', [{ guestPhysAddr: RAM_BASE, size: -1, readBytes() {}, writeBytes() {} }], RangeError, /regions\[0\]\.size must be an integer in \[0, 9007199254740991\], got -1/],
  ] as const)('%s', (_what, regions, cls, message) => {
    expectThrows(() => new GuestAddressSpace(regions as never), cls, message);
    const good = new GuestAddressSpace([ram]);
    expect(good.writeBytes(RAM_BASE + 8n, Uint8Array.of(1, 2))).toBe(true);
    expect(good.readBytes(RAM_BASE + 8n, 2)).toEqual(Uint8Array.of(1, 2));
    expect(new GuestAddressSpace(() => [ram]).resolve(RAM_BASE, 4096)).toBe(ram);
  });

  it('keeps the regions it was given: a later push to the caller\'s array is not new RAM', () => {
    const list = [ram];
    const space = new GuestAddressSpace(list);
    list.push(null as never);
    list.length = 0;
    expect(space.resolve(RAM_BASE, 1)).toBe(ram);
  });
});

describe('SplitVirtqueue', () => {
  it.each([
    ['\'8\'', '8', TypeError, /^virtqueue maximum size must be a number, got '8'$/],
    ['8n', 8n, TypeError, /got 8n/],
    ['undefined', undefined, TypeError, /got undefined/],
    ['3', 3, RangeError, /virtqueue maximum size 3 is not a power of two up to 32768/],
    ['0', 0, RangeError, /size 0 is not a power of two/],
    ['65536', 65536, RangeError, /size 65536 is not a power of two up to 32768/],
  ] as const)('new SplitVirtqueue(%s)', (_what, size, cls, message) => {
    expectThrows(() => new SplitVirtqueue(size as never), cls, message);
    expect(new SplitVirtqueue(8).maxSize).toBe(8);
  });
});

describe('SbiRegistry.handle, find, probe, unregister', () => {
  const ram = new ArrayBufferGuestMemory(0, RAM_BASE, 4096, false, new ArrayBuffer(4096));
  const ctx = { memory: new GuestAddressSpace([ram]) };
  const call = { extensionId: 0x0900_0000, functionId: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n], hartId: 0 };
  let handled = 0;
  const setUp = () => new SbiRegistry().register({ name: 'v', eid: [0x0900_0000, 0x0900_000f], handle: () => { handled++; return { error: 0, value: 5 }; } });
  it.each([
    ['handle(null, ctx)', (r: SbiRegistry) => r.handle(null as never, ctx), /^SbiRegistry\.handle: call must be an object \{ extensionId, functionId, args, hartId \}, got null$/],
    ['handle(a string EID)', (r: SbiRegistry) => r.handle({ ...call, extensionId: '0x09000000' } as never, ctx), /call\.extensionId must be a number, got '0x09000000'/],
    ['handle(a number FID)', (r: SbiRegistry) => r.handle({ ...call, functionId: 0 } as never, ctx), /call\.functionId must be a bigint, got 0/],
    ['handle(no args)', (r: SbiRegistry) => r.handle({ ...call, args: undefined } as never, ctx), /call\.args must be an array of bigints, got undefined/],
    ['handle(call, null)', (r: SbiRegistry) => r.handle(call, null as never), /^SbiRegistry\.handle: ctx must be an object \{ memory \}, got null$/],
    ['handle(call, {})', (r: SbiRegistry) => r.handle(call, {} as never), /ctx\.memory must be a GuestAddressSpace, got undefined/],
    ['handle(call, { memory: [ram] })', (r: SbiRegistry) => r.handle(call, { memory: [ram] } as never), /ctx\.memory must be a GuestAddressSpace, got an array/],
    ['find(\'9\')', (r: SbiRegistry) => r.find('150994944' as never), /^SbiRegistry\.find: eid must be a number, got '150994944'$/],
    ['probe(\'x\')', (r: SbiRegistry) => r.probe('x' as never), /^SbiRegistry\.probe: eid must be a number or bigint, got 'x'$/],
    ['unregister(null)', (r: SbiRegistry) => r.unregister(null as never), /^SbiRegistry\.unregister: name must be a string, got null$/],
  ] as const)('%s: TypeError, no handler ran, nothing counted', async (_what, fn, message) => {
    const r = setUp();
    handled = 0;
    expectThrows(() => fn(r), TypeError, message);
    expect(handled).toBe(0);
    expect(r.unsupportedCalls).toBe(0);
    // Still registered and answering.
    expect(await r.handle(call, ctx)).toEqual({ error: 0, value: 5 });
    expect(r.probe(0x0900_0001)).toBe(1);
    expect(r.find(0x0900_000f)?.name).toBe('v');
  });
});

describe('GuestAddressSpace lookups', () => {
  const ram = new ArrayBufferGuestMemory(0, RAM_BASE, 4096, false, new ArrayBuffer(4096));
  it.each([
    ['resolve(a number address)', (s: GuestAddressSpace) => s.resolve(0x8000_0000 as never, 4), /^GuestAddressSpace: gpa must be a bigint, got 2147483648$/],
    ['readBytes(a string address)', (s: GuestAddressSpace) => s.readBytes('0x80000000' as never, 4), /gpa must be a bigint, got '0x80000000'/],
    ['writeBytes(gpa, a string)', (s: GuestAddressSpace) => s.writeBytes(RAM_BASE, 'abc' as never), /^GuestAddressSpace\.writeBytes: data must be a Uint8Array, got 'abc'$/],
    ['writeBytes(gpa, [1, 2])', (s: GuestAddressSpace) => s.writeBytes(RAM_BASE, [1, 2] as never), /data must be a Uint8Array, got an array/],
  ] as const)('%s: TypeError, RAM untouched', (_what, fn, message) => {
    const space = new GuestAddressSpace([ram]);
    ram.writeBytes(RAM_BASE, Uint8Array.of(9, 9, 9, 9));
    expectThrows(() => fn(space), TypeError, message);
    expect(ram.readBytes(RAM_BASE, 4)).toEqual(Uint8Array.of(9, 9, 9, 9));
    // Guest-valued misses are still undefined/false, not exceptions.
    expect(space.resolve(RAM_BASE + 4096n, 1)).toBeUndefined();
    expect(space.resolve(RAM_BASE, -1)).toBeUndefined();
    expect(space.writeBytes(RAM_BASE + 4095n, Uint8Array.of(1, 2))).toBe(false);
  });
});
