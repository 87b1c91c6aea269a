import { describe, expect, it } from 'vitest';
import { KernelImageError, loadKernelImage, type ImageSink } from '../../lib/boot/elf.js';
import { parseRiscvImageHeader, RISCV_IMAGE_MAGIC2 } from '../../lib/boot/linux-image.js';
import { placeInitrd } from '../../lib/boot/initrd.js';
import { FDT_MAX_SIZE, RAM_BASE, fdtAddress } from '../../lib/boot/layout.js';

/** A Linux Image header as boot-image-header.rst lays it out, followed by some "code". */
function image(opts: { textOffset?: bigint; imageSize?: bigint; flags?: bigint; magic2?: boolean; fileSize?: number } = {}): Uint8Array {
  const b = new Uint8Array(opts.fileSize ?? 4096);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x4d5a0000, true); // code0 (any)
  dv.setBigUint64(8, opts.textOffset ?? 0x20_0000n, true);
  dv.setBigUint64(16, opts.imageSize ?? 0x10_0000n, true);
  dv.setBigUint64(24, opts.flags ?? 0n, true);
  dv.setUint32(32, 2, true);
  if (opts.magic2 ?? true) dv.setUint32(56, RISCV_IMAGE_MAGIC2, true);
  else dv.setBigUint64(48, 0x5643534952n, true);
  b[100] = 0x5a;
  return b;
}

const RAM = { base: RAM_BASE, size: 32 << 20 };
function sink(): ImageSink & { writes: Array<[bigint, number]> } {
  const writes: Array<[bigint, number]> = [];
  return { writes, writeBytes: (gpa, d) => { writes.push([gpa, d.length]); }, fill: () => {} };
}

describe('Linux RISC-V Image (boot-image-header.rst)', () => {
  it('parses the header by magic2 or the deprecated magic, and ignores other files', () => {
    expect(parseRiscvImageHeader(image())).toEqual({ textOffset: 0x20_0000n, imageSize: 0x10_0000n, flags: 0n, version: 2 });
    expect(parseRiscvImageHeader(image({ magic2: false }))?.textOffset).toBe(0x20_0000n);
    expect(parseRiscvImageHeader(new Uint8Array(4096))).toBeUndefined();
    expect(parseRiscvImageHeader(new Uint8Array(10))).toBeUndefined();
  });

  it('loads at RAM + text_offset and reserves image_size (BSS included), not just the file', () => {
    const s = sink();
    const img = loadKernelImage(image({ textOffset: 0x40_0000n, imageSize: 0x30_0000n }), RAM, s);
    expect(img).toMatchObject({ kind: 'linux-image', entry: RAM_BASE + 0x40_0000n, start: RAM_BASE + 0x40_0000n, end: RAM_BASE + 0x70_0000n });
    expect(s.writes).toEqual([[RAM_BASE + 0x40_0000n, 4096]]);
  });

  it.each([
    ['text_offset 0 (an M-mode build)', { textOffset: 0n }, /text_offset 0x0/],
    ['an unaligned text_offset', { textOffset: 0x1000n }, /text_offset 0x1000/],
    ['a big-endian flag', { flags: 1n }, /big-endian/],
    ['an image_size beyond RAM', { imageSize: 0x400_0000n }, /outside RAM/],
  ])('refuses %s', (_w, opts, message) => {
    const s = sink();
    expect(() => loadKernelImage(image(opts), RAM, s)).toThrow(KernelImageError);
    expect(() => loadKernelImage(image(opts), RAM, s)).toThrow(message);
    expect(s.writes).toEqual([]);
  });
});

describe('initrd placement', () => {
  const ram = 64 << 20;
  const fdt = fdtAddress(ram, FDT_MAX_SIZE, RAM_BASE + 0x30_0000n);

  it('ends at the FDT slot, page-aligned, above the kernel', () => {
    const p = placeInitrd(ram, 10_000, RAM_BASE + 0x30_0000n, fdt);
    expect(p.end).toBe(p.start + 10_000n);
    expect(p.start % 4096n).toBe(0n);
    expect(p.end).toBeLessThanOrEqual(fdt);
    expect(fdt - p.end).toBeLessThan(4096n);
  });

  it('refuses an initrd that would overlap the kernel, or an empty one', () => {
    expect(() => placeInitrd(ram, 60 << 20, RAM_BASE + 0x30_0000n, fdt)).toThrow(/no room .* give more --memory/);
    expect(() => placeInitrd(ram, 0, RAM_BASE, fdt)).toThrow(/empty/);
  });
});
