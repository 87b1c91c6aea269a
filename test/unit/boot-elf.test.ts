import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  EM_RISCV, KernelImageError, isElf, loadKernelImage, parseElf, type ImageSink,
} from '../../lib/boot/elf.js';
import { KERNEL_LOAD_ADDRESS, RAM_BASE } from '../../lib/boot/layout.js';
import { buildGuest, hasCrossBinutils, type BuiltGuest } from '../e2e/guest-build.js';

const RAM = { base: RAM_BASE, size: 16 * 1024 * 1024 };

/** A sink over a plain byte array standing for RAM, recording every write. */
function ramSink(): ImageSink & { bytes: Uint8Array; writes: number } {
  const bytes = new Uint8Array(RAM.size).fill(0xaa);
  const s = {
    bytes,
    writes: 0,
    writeBytes(gpa: bigint, data: Uint8Array) { s.writes++; bytes.set(data, Number(gpa - RAM.base)); },
    fill(gpa: bigint, len: number, v: number) { s.writes++; bytes.fill(v, Number(gpa - RAM.base), Number(gpa - RAM.base) + len); },
  };
  return s;
}

/** A minimal hand-made ELF64 header + program headers (gABI layout), for corrupt-file tests. */
function handMadeElf(opts: { machine?: number; type?: number; cls?: number; data?: number; paddr?: bigint; filesz?: number; memsz?: number; entry?: bigint; phnum?: number } = {}): Uint8Array {
  const payload = new Uint8Array([0x73, 0x00, 0x10, 0x00]); // any 4 bytes
  const b = new Uint8Array(64 + 56 + payload.length);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 2, opts.data ?? 1, 1]);
  dv.setUint16(16, opts.type ?? 2, true);
  dv.setUint16(18, opts.machine ?? EM_RISCV, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, opts.entry ?? 0x8020_0000n, true);
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, opts.phnum ?? 1, true);
  dv.setUint32(64, 1, true); // PT_LOAD
  dv.setUint32(68, 5, true);
  dv.setBigUint64(72, 120n, true); // p_offset
  dv.setBigUint64(80, opts.paddr ?? 0x8020_0000n, true);
  dv.setBigUint64(88, opts.paddr ?? 0x8020_0000n, true);
  dv.setBigUint64(96, BigInt(opts.filesz ?? payload.length), true);
  dv.setBigUint64(104, BigInt(opts.memsz ?? 64), true);
  b.set(payload, 120);
  return b;
}

describe('ELF loader: hand-made files', () => {
  it('loads p_filesz bytes at p_paddr and zero-fills up to p_memsz', () => {
    const sink = ramSink();
    const img = loadKernelImage(handMadeElf(), RAM, sink);
    expect(img.kind).toBe('elf');
    expect(img.entry).toBe(0x8020_0000n);
    const off = Number(0x8020_0000n - RAM.base);
    expect(Array.from(sink.bytes.subarray(off, off + 4))).toEqual([0x73, 0x00, 0x10, 0x00]);
    expect(sink.bytes.subarray(off + 4, off + 64).every((x) => x === 0)).toBe(true);
    expect(sink.bytes[off + 64]).toBe(0xaa); // untouched beyond memsz
    expect(img.end).toBe(0x8020_0000n + 64n);
  });

  it.each([
    ['another machine', { machine: 62 }, /e_machine is 62 \(x86-64\), expected 243/],
    ['ELF32', { cls: 1 }, /ELF32/],
    ['big-endian', { data: 2 }, /big-endian/],
    ['a relocatable object', { type: 1 }, /ET_REL/],
    ['a PIE / shared object', { type: 3 }, /ET_DYN/],
    ['filesz > memsz', { filesz: 4, memsz: 2 }, /p_filesz 0x4 is larger than p_memsz 0x2/],
    ['file data past the end', { filesz: 100, memsz: 100 }, /truncated ELF: segment 0/],
    ['a segment below RAM', { paddr: 0x1000n }, /segment 0 .* is outside RAM/],
    ['a segment past the end of RAM', { paddr: RAM.base + BigInt(RAM.size) - 16n }, /outside RAM/],
    ['an entry outside RAM', { entry: 0x1000n }, /entry point 0x1000 is outside RAM/],
    ['program headers past the end', { phnum: 3 }, /truncated ELF: program headers/],
    ['no program headers', { phnum: 0 }, /no program headers/],
  ])('rejects %s with a message naming the problem, writing nothing', (_what, opts, message) => {
    const sink = ramSink();
    let err: unknown;
    try { loadKernelImage(handMadeElf(opts), RAM, sink); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(KernelImageError);
    expect((err as Error).message).toMatch(message);
    expect(sink.writes).toBe(0);
  });

  it('rejects a file cut inside the ELF header', () => {
    expect(() => parseElf(handMadeElf().subarray(0, 40))).toThrow(/truncated ELF: 40 bytes/);
  });

  it('treats a non-ELF file as a flat binary at RAM + 2 MiB', () => {
    const sink = ramSink();
    const flat = new Uint8Array([1, 2, 3, 4, 5]);
    expect(isElf(flat)).toBe(false);
    const img = loadKernelImage(flat, RAM, sink);
    expect(img).toMatchObject({ kind: 'flat', entry: KERNEL_LOAD_ADDRESS, end: KERNEL_LOAD_ADDRESS + 5n });
    const off = Number(KERNEL_LOAD_ADDRESS - RAM.base);
    expect(Array.from(sink.bytes.subarray(off, off + 5))).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects an empty file and a flat binary larger than RAM', () => {
    expect(() => loadKernelImage(new Uint8Array(0), RAM, ramSink())).toThrow(/empty/);
    expect(() => loadKernelImage(new Uint8Array(RAM.size), RAM, ramSink())).toThrow(/outside RAM/);
  });
});

describe.skipIf(!hasCrossBinutils)('ELF loader: files from riscv64-linux-gnu-as/ld (skipped without cross binutils)', () => {
  const built: BuiltGuest[] = [];
  afterAll(() => built.forEach((b) => b.cleanup()));
  const src = `
  .text
  .globl _start
_start:
  la t0, data
  ld t1, 0(t0)
1: j 1b
  .data
data: .dword 0x1122334455667788
  .bss
buf: .skip 8192
`;

  it('loads text, data and bss of a linked static executable', () => {
    const g = buildGuest(src, { flat: true });
    built.push(g);
    const bytes = new Uint8Array(readFileSync(g.elf));
    const elf = parseElf(bytes);
    expect(elf.entry).toBe(0x8020_0000n);
    const sink = ramSink();
    const img = loadKernelImage(bytes, RAM, sink);
    // objcopy's flat output is what must sit at the text address, wherever a segment covers it
    // (ld may leave an unloaded gap between segments, which objcopy fills with zeros).
    const flat = new Uint8Array(readFileSync(g.bin!));
    let compared = 0;
    for (const s of img.segments) {
      for (let a = s.paddr; a < s.paddr + BigInt(s.memSize); a++) {
        const i = Number(a - 0x8020_0000n);
        if (i < 0 || i >= flat.length) continue;
        expect(sink.bytes[Number(a - RAM.base)], `byte at 0x${a.toString(16)}`).toBe(flat[i]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(16);
    // The .data dword, and the 8 KiB .bss after it zeroed although the sink started as 0xaa.
    const data = img.segments[img.segments.length - 1]!;
    const dataOff = Number(data.paddr - RAM.base);
    expect(new DataView(sink.bytes.buffer).getBigUint64(dataOff, true)).toBe(0x1122334455667788n);
    expect(data.memSize).toBeGreaterThanOrEqual(8 + 8192);
    expect(sink.bytes.subarray(dataOff + 8, dataOff + data.memSize).every((x) => x === 0)).toBe(true);
  });

  it('loads at p_paddr when it differs from p_vaddr, entering at the physical entry', () => {
    const g = buildGuest('.text\n.globl _start\n_start: j _start\n', {
      // A higher-half link (vaddr) loaded low (paddr), as kernels do with AT().
      linkerScript: 'SECTIONS { . = 0xffffffff80200000; .text : AT(0x80200000) { *(.text) } /DISCARD/ : { *(.riscv.attributes) } }',
    });
    built.push(g);
    const bytes = new Uint8Array(readFileSync(g.elf));
    const elf = parseElf(bytes);
    expect(elf.segments[0]!.vaddr).toBe(0xffff_ffff_8020_0000n);
    expect(elf.segments[0]!.paddr).toBe(0x8020_0000n);
    const sink = ramSink();
    const img = loadKernelImage(bytes, RAM, sink);
    // e_entry is virtual; it lies in a segment, so it is translated through that segment.
    expect(img.entry).toBe(0x8020_0000n);
    // `j _start` (c.j 0 = 0xa001) sits at the physical address.
    expect(sink.bytes[0x20_0000]).toBe(0x01);
    expect(sink.bytes[0x20_0001]).toBe(0xa0);
  });

  it('rejects an executable linked outside RAM', () => {
    const g = buildGuest('.text\n.globl _start\n_start: j _start\n', { textAddress: 0x1000n });
    built.push(g);
    expect(() => loadKernelImage(new Uint8Array(readFileSync(g.elf)), RAM, ramSink())).toThrow(/outside RAM/);
  });
});

describe('ELF loader: corrupted headers', () => {
  it('any corruption of the headers gives KernelImageError or a valid load, never another exception', () => {
    // A deterministic xorshift so a failure reproduces.
    let seed = 0x2545f491;
    const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };
    const base = handMadeElf();
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const b = base.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) b[Math.floor(rnd() * 120)] = Math.floor(rnd() * 256);
      try {
        const img = loadKernelImage(b, RAM, { writeBytes() {}, fill() {} });
        expect(img.end).toBeLessThanOrEqual(RAM.base + BigInt(RAM.size));
      } catch (e) {
        expect(e, `iteration ${i}: ${String(e)}`).toBeInstanceOf(KernelImageError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});
