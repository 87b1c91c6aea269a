// Bad input to the SBI registration API (SbiRegistry.register, createUserExtension) and to the
// boot loaders (loadKernelImage, parseElf, loadFlat, parseRiscvImageHeader, placeInitrd): a
// malformed registration is refused when it is made, never when the guest first calls it, and
// leaves the registry as it was; a loader given something that is not the file's bytes says so.
import { describe, expect, it } from 'vitest';
import { SBI_ERR_NOT_SUPPORTED } from '../../lib/abi/sbi.js';
import { KernelImageError, loadFlat, loadKernelImage, parseElf } from '../../lib/boot/elf.js';
import { placeInitrd } from '../../lib/boot/initrd.js';
import { parseRiscvImageHeader } from '../../lib/boot/linux-image.js';
import { createDbcnExtension } from '../../lib/sbi/dbcn.js';
import { GuestAddressSpace } from '../../lib/sbi/guest-memory.js';
import { createLegacyConsoleExtensions } from '../../lib/sbi/legacy-console.js';
import { SbiRegistry, type SbiExtension } from '../../lib/sbi/registry.js';
import { createUserExtension } from '../../lib/sbi/user-extension.js';
import { thrown } from '../support/thrown.js';


function expectError(fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: RegExp): void {
  const e = thrown(fn);
  expect(e, `${e?.name}: ${e?.message}`).toBeInstanceOf(cls);
  expect(e.constructor).toBe(cls);
  expect(e.message).toMatch(message);
}

const ok = () => ({ error: 0, value: 7 });
const ctx = { memory: new GuestAddressSpace([]) };
const call = (extensionId: number, functionId = 0n) => ({ extensionId, functionId, args: [0n, 0n, 0n, 0n, 0n, 0n], hartId: 0 });

describe('SbiRegistry.register', () => {
  it.each([
    ['undefined', undefined, TypeError, /an SBI extension must be an object \{ name, eid, handle \}, got undefined/],
    ['null', null, TypeError, /got null/],
    ['no name', { eid: 0x0900_0001, handle: ok }, TypeError, /SBI extension name must be a string, got undefined/],
    ['an empty name', { name: '', eid: 0x0900_0001, handle: ok }, RangeError, /SBI extension name must not be empty/],
    ['no handler', { name: 'x', eid: 0x0900_0001 }, TypeError, /x: handle must be a function \(call, ctx\) => SbiResult, got undefined/],
    ['a probe that is a number', { name: 'x', eid: 0x0900_0001, handle: ok, probe: 1 }, TypeError, /x: probe must be a function returning the probe value, got number/],
    ['an EID as a string', { name: 'x', eid: '0x09000001', handle: ok }, TypeError, /x: EID must be a number, got string/],
    ['an EID as a bigint', { name: 'x', eid: 0x0900_0001n, handle: ok }, TypeError, /x: EID must be a number, got 150994945n/],
    ['EID NaN', { name: 'x', eid: NaN, handle: ok }, RangeError, /x: EID NaN is not a 32-bit extension id/],
    ['EID 2^32', { name: 'x', eid: 2 ** 32, handle: ok }, RangeError, /x: EID 4294967296 is not a 32-bit extension id/],
    ['EID -1', { name: 'x', eid: -1, handle: ok }, RangeError, /x: EID -1 is not/],
    ['a one-element range', { name: 'x', eid: [0x0900_0001], handle: ok }, TypeError, /x: an EID range must be \[first, last\], got 1 element/],
    ['a range with a string end', { name: 'x', eid: [0x0900_0001, '0x09000002'], handle: ok }, TypeError, /x: last EID must be a number, got string/],
    ['an empty range', { name: 'x', eid: [0x0900_0002, 0x0900_0001], handle: ok }, RangeError, /x: EID range \[0x9000002, 0x9000001\] is empty/],
    ['BASE', { name: 'x', eid: 0x10, handle: ok }, RangeError, /x: BASE \(0x10\) is answered by the registry itself/],
    ['a range over BASE', { name: 'x', eid: [0, 0x20], handle: ok }, RangeError, /BASE \(0x10\)/],
    ['an EID taken', { name: 'x', eid: 0x0900_0000, handle: ok }, RangeError, /x: EIDs overlap those of mine/],
    ['a name taken', { name: 'mine', eid: 0x0900_0005, handle: ok }, RangeError, /mine: an extension of that name is already registered/],
  ] as const)('%s', async (_what, ext, cls, message) => {
    const r = new SbiRegistry().register({ name: 'mine', eid: 0x0900_0000, handle: ok });
    expectError(() => r.register(ext as unknown as SbiExtension), cls, message);
    // The registry is as it was: the good extension answers, nothing else was added.
    expect(await r.handle(call(0x0900_0000), ctx)).toEqual({ error: 0, value: 7 });
    expect(r.probe(0x0900_0001)).toBe(0);
    expect(await r.handle(call(0x0900_0005), ctx)).toEqual({ error: SBI_ERR_NOT_SUPPORTED, value: 0 });
    expect(r.unregister('mine')).toBe(true);
    expect(r.find(0x0900_0000)).toBeUndefined();
  });
});

describe('createUserExtension', () => {
  it.each([
    ['no options', undefined, TypeError, /createUserExtension: options must be an object \{ name, eid, functions \}, got undefined/],
    ['no name', { eid: 0x0900_0000, functions: {} }, TypeError, /createUserExtension: name must be a non-empty string, got undefined/],
    ['an empty name', { name: '', eid: 0x0900_0000, functions: {} }, TypeError, /name must be a non-empty string, got ''/],
    ['no EID', { name: 'v', functions: {} }, TypeError, /v: eid must be a number, got undefined/],
    ['an EID as a string', { name: 'v', eid: '0x09000000', functions: {} }, TypeError, /v: eid must be a number, got string/],
    ['a fractional EID', { name: 'v', eid: 0x0900_0000 + 0.5, functions: {} }, RangeError, /v: EID 150994944\.5 is not an integer/],
    ['an EID KVM answers itself', { name: 'v', eid: 0x10, functions: {} }, RangeError, /v: EID 0x10 is outside the experimental \(0x08000000-0x08ffffff\) and vendor \(0x09000000-0x09ffffff\) ranges KVM forwards/],
    ['no functions', { name: 'v', eid: 0x0900_0000 }, TypeError, /v: functions must be a handler or an object of handlers by FID, got undefined/],
    ['a handler that is not a function', { name: 'v', eid: 0x0900_0000, functions: { 0: 42 } }, TypeError, /v: the handler of FID 0 must be a function, got number/],
    ['a key that is not an FID', { name: 'v', eid: 0x0900_0000, functions: { hello: ok } }, RangeError, /v: function key 'hello' is not an FID/],
    ['a negative FID key', { name: 'v', eid: 0x0900_0000, functions: { '-1': ok } }, RangeError, /v: function key '-1' is not an FID/],
    ['a probe that is a string', { name: 'v', eid: 0x0900_0000, functions: {}, probe: 'yes' }, TypeError, /v: probe must be a function, got string/],
  ] as const)('%s', (_what, opts, cls, message) => {
    expectError(() => createUserExtension(opts as never), cls, message);
  });

  it('a well-formed extension still registers and answers after a rejected one', async () => {
    const r = new SbiRegistry();
    expect(() => r.register(createUserExtension({ name: 'v', eid: 0x0900_0000, functions: { x: ok } as never }))).toThrow(RangeError);
    r.register(createUserExtension({ name: 'v', eid: 0x0900_0000, functions: { 3: () => ({ error: 0, value: 3 }) } }));
    expect(await r.handle(call(0x0900_0000, 3n), ctx)).toEqual({ error: 0, value: 3 });
  });
});

describe('console extensions: their ends are checked when they are made', () => {
  const write = { write: () => {} };
  it.each([
    ['no options', undefined, /options must be an object \{ output, input\? \}, got undefined/],
    ['no output', {}, /output must be an object with a write\(bytes\) method, got undefined/],
    ['process.stdout.fd as output', { output: 1 }, /output must be an object with a write\(bytes\) method, got number/],
    ['an output without write()', { output: { end() {} } }, /output must be an object with a write\(bytes\) method, got object/],
    ['an input without read()', { output: write, input: {} }, /input must be an object with a read\(max\) method, got object/],
  ] as const)('%s', (_what, opts, message) => {
    expectError(() => createDbcnExtension(opts as never), TypeError, new RegExp(`^createDbcnExtension: ${message.source}`));
    expectError(() => createLegacyConsoleExtensions(opts as never), TypeError, new RegExp(`^createLegacyConsoleExtensions: ${message.source}`));
    expect(createDbcnExtension({ output: write }).name).toBe('DBCN');
  });
});

describe('boot loaders given something other than the bytes', () => {
  const ram = { base: 0x8000_0000n, size: 16 << 20 };
  const sink = { writes: 0, writeBytes() { this.writes++; }, fill() { this.writes++; } };
  it.each([
    ['loadKernelImage(a path)', () => loadKernelImage('Image' as never, ram, sink), /kernel image must be a Uint8Array of the file's bytes, got a string \('Image'\): read the file first/],
    ['loadKernelImage(an ArrayBuffer)', () => loadKernelImage(new ArrayBuffer(8) as never, ram, sink), /got an ArrayBuffer: wrap it in a Uint8Array/],
    ['loadKernelImage(undefined)', () => loadKernelImage(undefined as never, ram, sink), /kernel image must be a Uint8Array .*got undefined/],
    ['parseElf(null)', () => parseElf(null as never), /image must be a Uint8Array .*got null/],
    ['loadFlat(a number array)', () => loadFlat([1, 2, 3] as never, ram, sink), /image must be a Uint8Array .*got object/],
    ['parseRiscvImageHeader(a string)', () => parseRiscvImageHeader('x'.repeat(64) as never), /image must be a Uint8Array .*got string/],
  ] as const)('%s: TypeError, nothing written', (_what, fn, message) => {
    sink.writes = 0;
    expectError(fn, TypeError, message);
    expect(sink.writes).toBe(0);
  });

  it.each([
    ['a size as a string', '4096', TypeError, /initrd size must be a number of bytes, got string/],
    ['NaN', NaN, RangeError, /initrd size must be a whole number of bytes, got NaN/],
    ['-1', -1, RangeError, /got -1/],
    ['0', 0, RangeError, /the initrd is empty \(0 bytes\)/],
  ] as const)('placeInitrd(%s)', (_what, size, cls, message) => {
    expectError(() => placeInitrd(16 << 20, size as never, 0x8030_0000n, 0x80e0_0000n), cls, message);
    expect(placeInitrd(16 << 20, 4096, 0x8030_0000n, 0x80e0_0000n)).toEqual({ start: 0x80df_f000n, end: 0x80e0_0000n });
  });
});

it('placeInitrd with a RAM size of NaN (a bad call, not a bad file) names it', () => {
  expectError(() => placeInitrd(NaN, 4096, 0x8030_0000n, 0x80e0_0000n), RangeError, /RAM size must be a positive whole number of bytes, got NaN/);
});

describe('kernel files that are something else', () => {
  const ram = { base: 0x8000_0000n, size: 16 << 20 };
  const at = (offset: number, magic: number[]): Uint8Array => {
    const b = new Uint8Array(4096).fill(0x13); // otherwise a page of `addi x0, x0, 0`-ish bytes
    b.set(magic, offset);
    return b;
  };
  it.each([
    ['gzip (a vmlinuz)', at(0, [0x1f, 0x8b, 8, 0]), /^this is a gzip-compressed file, not a kernel: decompress it first/],
    ['xz', at(0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), /^this is an xz-compressed file, not a kernel/],
    ['zstd', at(0, [0x28, 0xb5, 0x2f, 0xfd]), /^this is a zstd-compressed file/],
    ['bzip2', at(0, [0x42, 0x5a, 0x68, 0x39]), /^this is a bzip2-compressed file/],
    ['LZ4 (legacy, as Linux writes it)', at(0, [0x02, 0x21, 0x4c, 0x18]), /^this is an LZ4-compressed file/],
    ['an arm64 Image', at(56, [0x41, 0x52, 0x4d, 0x64]), /^this is an arm64 Linux Image, not a kernel: use a RISC-V kernel$/],
    ['an x86 bzImage', at(0x202, [0x48, 0x64, 0x72, 0x53]), /^this is an x86 bzImage, not a kernel: use a RISC-V kernel$/],
    ['a DTB', at(0, [0xd0, 0x0d, 0xfe, 0xed]), /^this is a flattened device tree \(DTB\), not a kernel: kvm-riscv writes the device tree itself/],
    ['an initramfs', at(0, [...'070701'].map((c) => c.charCodeAt(0))), /^this is a cpio archive \(an initramfs\?\), not a kernel: give it with --initrd/],
    ['a uImage', at(0, [0x27, 0x05, 0x19, 0x56]), /^this is a U-Boot legacy image \(uImage\)/],
  ])('%s: KernelImageError saying what it is, nothing written', (_what, bytes, message) => {
    let writes = 0;
    const sink = { writeBytes() { writes++; }, fill() { writes++; } };
    const e = thrown(() => loadKernelImage(bytes, ram, sink));
    expect(e).toBeInstanceOf(KernelImageError);
    expect(e.message).toMatch(message);
    expect(writes).toBe(0);
  });

  it('a flat binary that is none of them still loads at RAM + 2 MiB', () => {
    const writes: bigint[] = [];
    const image = loadKernelImage(Uint8Array.of(0x13, 0, 0, 0, 0x73, 0, 0, 0), ram, { writeBytes(gpa) { writes.push(gpa); }, fill() {} });
    expect(image).toMatchObject({ kind: 'flat', entry: 0x8020_0000n });
    expect(writes).toEqual([0x8020_0000n]);
  });
});
