// ImageFile (lib/boot/image-file.ts): a kernel or initrd read from its file at each load, in 1 MiB
// chunks, must land in guest RAM exactly as the same bytes held in memory do; a file that is not a
// regular file, or changed since it was named, is an error naming the file; the Machine reads it
// again at a reboot.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKernelImage, type RamWindow } from '../../lib/boot/elf.js';
import { IMAGE_CHUNK, ImageFile, VALIDATE_ONLY, bytesReader, copyImage } from '../../lib/boot/image-file.js';
import { RAM_BASE } from '../../lib/boot/layout.js';
import { Machine } from '../../lib/vmm/machine.js';
import { FakeHypervisor, srstExit, type ExitScript } from '../e2e/support/fake-backend.js';
import { thrown } from '../support/thrown.js';

const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-image-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RAM: RamWindow = { base: RAM_BASE, size: 16 << 20 };

/** Deterministic, position-dependent bytes, so a chunk copied to the wrong place shows. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A sink that is a RAM window, recording how many writes it took. */
function ramSink(): { bytes: Uint8Array; writes: number; writeBytes(gpa: bigint, data: Uint8Array): void; fill(gpa: bigint, length: number, value: number): void } {
  const s = {
    bytes: new Uint8Array(RAM.size),
    writes: 0,
    writeBytes(gpa: bigint, data: Uint8Array) { s.writes++; s.bytes.set(data, Number(gpa - RAM.base)); },
    fill(gpa: bigint, length: number, value: number) { s.bytes.fill(value, Number(gpa - RAM.base), Number(gpa - RAM.base) + length); },
  };
  return s;
}

/** A Linux RISC-V Image header (boot-image-header.rst): text_offset 2 MiB, image_size, magic2. */
function linuxImage(length: number, imageSize: number): Uint8Array {
  const bytes = pattern(length, 7);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(8, 0x20_0000n, true);
  dv.setBigUint64(16, BigInt(imageSize), true);
  dv.setBigUint64(24, 0n, true);
  dv.setUint32(56, 0x05435352, true);
  return bytes;
}

/** A minimal ELF64 RISC-V executable with two PT_LOAD segments, the second with .bss. */
function elf(): Uint8Array {
  const seg1 = { off: 0x1000, size: IMAGE_CHUNK + 0x123, paddr: RAM_BASE + 0x20_0000n, mem: IMAGE_CHUNK + 0x123 };
  const seg2 = { off: 0x1000 + seg1.size, size: 0x3000, paddr: RAM_BASE + 0x40_0000n, mem: 0x5000 };
  const bytes = pattern(seg2.off + seg2.size, 11);
  bytes.fill(0, 0, 0x1000);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, seg1.paddr, true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 2, true);
  [seg1, seg2].forEach((s, i) => {
    const o = 64 + i * 56;
    dv.setUint32(o, 1, true); // PT_LOAD
    dv.setUint32(o + 4, 5, true);
    dv.setBigUint64(o + 8, BigInt(s.off), true);
    dv.setBigUint64(o + 16, s.paddr, true);
    dv.setBigUint64(o + 24, s.paddr, true);
    dv.setBigUint64(o + 32, BigInt(s.size), true);
    dv.setBigUint64(o + 40, BigInt(s.mem), true);
  });
  return bytes;
}

function saved(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('ImageFile loads exactly what the same bytes load', () => {
  it.each([
    ['a Linux Image of 2.5 MiB + 17 bytes (chunk boundaries inside)', () => linuxImage((5 << 19) + 17, 4 << 20)],
    ['an ELF whose first segment crosses a chunk boundary, with .bss', elf],
    ['a flat binary of exactly one chunk', () => pattern(IMAGE_CHUNK, 3)],
  ])('%s', (_what, make) => {
    const bytes = make();
    const fromBytes = ramSink();
    const fromFile = ramSink();
    fromFile.bytes.fill(0xaa); // .bss must be zeroed by the load, not found zero
    fromBytes.bytes.fill(0xaa);
    const a = loadKernelImage(bytes, RAM, fromBytes);
    const b = loadKernelImage(new ImageFile(saved('k.img', bytes)), RAM, fromFile);
    expect(b).toEqual(a);
    expect(Buffer.compare(fromFile.bytes, fromBytes.bytes)).toBe(0);
    // Read in chunks: more than one write for anything above a chunk.
    if (bytes.length > IMAGE_CHUNK) expect(fromFile.writes).toBeGreaterThan(1);
  });

  it('a foreign file (gzip) is named as such from its file too', () => {
    const gz = pattern(5000, 1);
    gz[0] = 0x1f; gz[1] = 0x8b;
    expect(() => loadKernelImage(new ImageFile(saved('k.gz', gz)), RAM, ramSink())).toThrow(/gzip/);
  });

  it('copyImage copies any range, chunk by chunk, to the right addresses', () => {
    const bytes = pattern(3 * IMAGE_CHUNK + 5, 9);
    const sink = ramSink();
    copyImage(bytesReader(bytes), 100, 2 * IMAGE_CHUNK + 1, sink, RAM_BASE + 4096n);
    expect(sink.writes).toBe(3);
    expect(Buffer.compare(sink.bytes.subarray(4096, 4096 + 2 * IMAGE_CHUNK + 1), bytes.subarray(100, 100 + 2 * IMAGE_CHUNK + 1))).toBe(0);
    expect(sink.bytes[4095]).toBe(0);
    expect(sink.bytes[4096 + 2 * IMAGE_CHUNK + 1]).toBe(0);
    expect(() => bytesReader(bytes).read(bytes.length - 1, 2)).toThrow(RangeError);
  });
});

describe('VALIDATE_ONLY: a load that checks everything and copies nothing', () => {
  it('does not read the bytes it would copy', () => {
    const unreadable = { length: 10 << 20, read(): Uint8Array { throw new Error('read'); } };
    expect(() => copyImage(unreadable, 0, 10 << 20, VALIDATE_ONLY, RAM_BASE)).not.toThrow();
    expect(() => copyImage(unreadable, 0, 10 << 20, ramSink(), RAM_BASE)).toThrow('read');
  });

  it('still refuses what a real load refuses, and accepts what it accepts', () => {
    const fits = new ImageFile(saved('fits.img', linuxImage(1 << 20, 2 << 20)));
    expect(loadKernelImage(fits, RAM, VALIDATE_ONLY)).toMatchObject({ kind: 'linux-image', end: RAM_BASE + 0x20_0000n + (2n << 20n) });
    const tooBig = new ImageFile(saved('big.img', linuxImage(1 << 20, 15 << 20)));
    expect(() => loadKernelImage(tooBig, RAM, VALIDATE_ONLY)).toThrow(/outside RAM/);
  });
});

describe('ImageFile refuses what it cannot load, naming the file', () => {
  it('missing, a directory, a FIFO, an empty path', () => {
    expect(thrown(() => new ImageFile(join(dir, 'nope')))).toMatchObject({ code: 'ENOENT' });
    expect(thrown(() => new ImageFile(dir))).toMatchObject({ code: 'EISDIR', message: expect.stringContaining(dir) });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(thrown(() => new ImageFile(fifo))).toMatchObject({ code: 'ENOTREG', message: expect.stringContaining(fifo) });
    expect(thrown(() => new ImageFile(''))).toBeInstanceOf(TypeError);
  });

  it('a file that changed size since it was named fails the load and writes nothing', () => {
    const path = saved('shrinks.img', pattern(3 * IMAGE_CHUNK, 5));
    const file = new ImageFile(path);
    truncateSync(path, IMAGE_CHUNK);
    const sink = ramSink();
    expect(thrown(() => loadKernelImage(file, RAM, sink))).toMatchObject({ code: 'ECHANGED', message: expect.stringContaining(path) });
    expect(sink.writes).toBe(0);
  });
});

describe('Machine with ImageFile kernel and initrd', () => {
  it('reads both files again at a reboot (a changed file is what the reboot loads)', async () => {
    const kernelPath = saved('guest.bin', pattern(8192, 21));
    const initrdPath = saved('initrd.img', pattern(3000, 22));
    const seen: Uint8Array[] = [];
    let boots = 0;
    const script: ExitScript = (vcpu, vm) => {
      if (vcpu.id !== 0) return vcpu.blockUntilStopped();
      // What the boot put at the flat-binary load address (RAM + 2 MiB).
      seen.push(vm.regions[0]!.readBytes(RAM_BASE + 0x20_0000n, 8192));
      boots++;
      if (boots === 1) writeFileSync(kernelPath, pattern(8192, 99)); // same size, new bytes
      return boots < 2 ? srstExit('reset', 0n) : srstExit('shutdown', 0n);
    };
    const m = new Machine({ backend: new FakeHypervisor(script), kernel: new ImageFile(kernelPath), initrd: new ImageFile(initrdPath), memorySize: 16 << 20, warn: () => {} });
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'shutdown', reboots: 1 });
    expect(seen[0]).toEqual(pattern(8192, 21));
    expect(seen[1]).toEqual(pattern(8192, 99));
  });

  it('a kernel file removed before a reboot ends the machine with an error naming it', async () => {
    const kernelPath = saved('vanishes.bin', pattern(4096, 23));
    const script: ExitScript = (vcpu) => {
      if (vcpu.id !== 0) return vcpu.blockUntilStopped();
      rmSync(kernelPath);
      return srstExit('reset', 0n);
    };
    const m = new Machine({ backend: new FakeHypervisor(script), kernel: new ImageFile(kernelPath), memorySize: 16 << 20, warn: () => {} });
    await m.start();
    const end = await m.done;
    expect(end.kind).toBe('error');
    expect(end.reason).toContain(kernelPath);
  });
});
