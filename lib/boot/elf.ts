/**
 * Kernel image loading: static ELF64 RISC-V executables, or flat binaries.
 *
 * ELF per the System V gABI (ELF-64 Object File Format, "ELF header" and "Program header") and the
 * RISC-V ELF psABI (EM_RISCV = 243, little-endian). Only PT_LOAD segments matter: each is copied to
 * its *physical* address p_paddr (the guest runs with satp = 0, so physical is what counts; linker
 * scripts with AT() set it apart from p_vaddr), and memsz beyond filesz is zero-filled (.bss).
 * Anything that is not ELF (no \x7fELF magic) is a flat binary placed at RAM + 2 MiB, where
 * kvmtool and crosvm put a raw Image. A Linux `Image` (linux-image.ts) is such a flat binary whose
 * header says where it goes (RAM + text_offset) and how much room it needs (image_size, BSS
 * included).
 *
 * Every field the loader uses is validated against the file and the RAM window first; nothing is
 * written to guest memory unless the whole image is valid. Problems throw KernelImageError with a
 * message that names the field and the values involved.
 */
import { KERNEL_LOAD_ADDRESS } from './layout.js';
import { describeForeignImage } from './foreign-image.js';
import { parseRiscvImageHeader } from './linux-image.js';
import { checkArray, checkInteger, checkMethods, checkObject, checkU64 } from '../option-checks.js';
import { ImageFile, bytesReader, copyImage, readImage, type ImageReader, type ImageSink } from './image-file.js';

export type { ImageSink } from './image-file.js';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_RISCV = 243;
export const PT_LOAD = 1;
const ELF64_EHDR_SIZE = 64;
const ELF64_PHDR_SIZE = 56;
/** The Linux Image header (linux-image.ts). */
const IMAGE_HEADER_BYTES = 64;
/** Enough of a file's start for every magic foreign-image.ts looks for. */
const FOREIGN_HEAD_BYTES = 4096;

const MACHINE_NAMES: Record<number, string> = { 3: 'x86', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch' };
const TYPE_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL (an object file, not linked)', 2: 'ET_EXEC', 3: 'ET_DYN (position-independent or shared object)', 4: 'ET_CORE (a core dump)' };

export class KernelImageError extends Error {
  readonly code = 'ERR_KERNEL_IMAGE';
  constructor(message: string) {
    super(message);
    this.name = 'KernelImageError';
  }
}

export interface ElfSegment {
  /** Load address (p_paddr). */
  paddr: bigint;
  vaddr: bigint;
  fileOffset: number;
  fileSize: number;
  memSize: number;
  /** PF_X = 1, PF_W = 2, PF_R = 4. */
  flags: number;
}

export interface ElfImage {
  entry: bigint;
  segments: ElfSegment[];
}

/** The RAM window an image must fit in. */
export interface RamWindow {
  base: bigint;
  size: number;
}

export interface LoadedImage {
  kind: 'elf' | 'flat' | 'linux-image';
  entry: bigint;
  /** Lowest and one-past-highest guest physical address written. */
  start: bigint;
  end: bigint;
  segments: { paddr: bigint; memSize: number }[];
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** The image argument of every loader: the file's bytes (a Buffer is a Uint8Array too). A path or an
 * ArrayBuffer here is the caller's mistake, named as such rather than failing deep in a DataView. */
export function checkImageBytes(bytes: unknown, what = 'image'): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    const kind = bytes === null ? 'null' : typeof bytes === 'string' ? `a string ('${bytes.slice(0, 40)}'): read the file first` : bytes instanceof ArrayBuffer ? 'an ArrayBuffer: wrap it in a Uint8Array' : typeof bytes;
    throw new TypeError(`${what} must be a Uint8Array of the file's bytes, got ${kind}`);
  }
}

/** The RAM window and the sink of every loader, checked before the image is looked at: a missing
 * one would otherwise fail half-way, after some segments were already copied. */
function checkRamAndSink(who: string, ram: unknown, sink: unknown): void {
  checkObject(who, 'ram', ram, '{ base, size }');
  checkU64(who, 'ram.base', ram.base);
  checkInteger(who, 'ram.size', ram.size, 0, Number.MAX_SAFE_INTEGER);
  checkMethods(who, 'sink', sink, ['writeBytes', 'fill'], false);
}

/** An ElfImage given to loadElf by the caller (parseElf makes valid ones): every segment must
 * describe bytes inside `fileLength` and sizes the sink can take, or the copy would be short. */
function checkElfImage(who: string, elf: unknown, fileLength: number): void {
  checkObject(who, 'elf', elf, '{ entry, segments } (from parseElf)');
  checkU64(who, 'elf.entry', elf.entry);
  checkArray(who, 'elf.segments', elf.segments);
  if (elf.segments.length === 0) throw new RangeError(`${who}: elf.segments is empty: nothing to load`);
  elf.segments.forEach((s: unknown, i: number) => {
    const name = `elf.segments[${i}]`;
    checkObject(who, name, s, '{ paddr, vaddr, fileOffset, fileSize, memSize, flags }');
    checkU64(who, `${name}.paddr`, s.paddr);
    checkU64(who, `${name}.vaddr`, s.vaddr);
    checkInteger(who, `${name}.fileOffset`, s.fileOffset, 0, fileLength);
    checkInteger(who, `${name}.fileSize`, s.fileSize, 0, fileLength - s.fileOffset);
    checkInteger(who, `${name}.memSize`, s.memSize, s.fileSize, 0xffff_ffff);
  });
}

export function isElf(bytes: Uint8Array): boolean {
  checkImageBytes(bytes);
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses and validates an ELF64 little-endian RISC-V static executable (headers only). */
export function parseElf(bytes: Uint8Array): ElfImage {
  checkImageBytes(bytes);
  return parseElfFrom(bytesReader(bytes));
}

function parseElfFrom(image: ImageReader): ElfImage {
  const fileLength = image.length;
  if (!isElf(image.read(0, Math.min(4, fileLength)))) throw new KernelImageError('not an ELF file (no \\x7fELF magic)');
  if (fileLength < ELF64_EHDR_SIZE) throw new KernelImageError(`truncated ELF: ${fileLength} bytes, the ELF64 header alone is 64`);
  // Every header field is taken out of this view before the next read reuses its buffer.
  const bytes = image.read(0, ELF64_EHDR_SIZE);
  const cls = bytes[4]!;
  if (cls !== ELFCLASS64) throw new KernelImageError(`ELF class ${cls} (${cls === 1 ? 'ELF32' : 'unknown'}): only ELF64 (class 2) is supported on rv64`);
  const data = bytes[5]!;
  if (data !== ELFDATA2LSB) throw new KernelImageError(`ELF data encoding ${data} (${data === 2 ? 'big-endian' : 'unknown'}): RISC-V ELF is little-endian (ELFDATA2LSB = 1)`);
  if (bytes[6] !== EV_CURRENT) throw new KernelImageError(`ELF identification version ${bytes[6]} is not EV_CURRENT (1)`);

  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_RISCV) {
    throw new KernelImageError(`not a RISC-V executable: e_machine is ${machine} (${MACHINE_NAMES[machine] ?? 'unknown'}), expected ${EM_RISCV} (EM_RISCV)`);
  }
  if (type !== ET_EXEC) {
    throw new KernelImageError(`e_type is ${type} (${TYPE_NAMES[type] ?? 'unknown'}): only static executables (ET_EXEC) can be loaded`);
  }
  const version = dv.getUint32(20, true);
  if (version !== EV_CURRENT) throw new KernelImageError(`e_version ${version} is not EV_CURRENT (1)`);
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) throw new KernelImageError('the ELF has no program headers (e_phnum = 0): nothing to load');
  if (phnum === 0xffff) throw new KernelImageError('e_phnum is PN_XNUM (65535): extended program header counts are not supported');
  if (phentsize < ELF64_PHDR_SIZE) throw new KernelImageError(`e_phentsize ${phentsize} is smaller than an ELF64 program header (56)`);
  const phEnd = phoff + BigInt(phnum) * BigInt(phentsize);
  if (phEnd > BigInt(fileLength)) {
    throw new KernelImageError(`truncated ELF: program headers span [${hex(phoff)}, ${hex(phEnd)}) but the file is ${fileLength} bytes`);
  }
  const table = image.read(Number(phoff), phnum * phentsize);
  const pv = new DataView(table.buffer, table.byteOffset, table.byteLength);

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const off = i * phentsize;
    if (pv.getUint32(off, true) !== PT_LOAD) continue;
    const flags = pv.getUint32(off + 4, true);
    const fileOffset = pv.getBigUint64(off + 8, true);
    const vaddr = pv.getBigUint64(off + 16, true);
    const paddr = pv.getBigUint64(off + 24, true);
    const fileSize = pv.getBigUint64(off + 32, true);
    const memSize = pv.getBigUint64(off + 40, true);
    if (fileSize > memSize) throw new KernelImageError(`segment ${i}: p_filesz ${hex(fileSize)} is larger than p_memsz ${hex(memSize)}`);
    if (fileOffset + fileSize > BigInt(fileLength)) {
      throw new KernelImageError(`truncated ELF: segment ${i} needs file bytes [${hex(fileOffset)}, ${hex(fileOffset + fileSize)}) but the file is ${fileLength} bytes`);
    }
    if (memSize > 0xffff_ffffn) throw new KernelImageError(`segment ${i}: p_memsz ${hex(memSize)} is larger than 4 GiB`);
    if (paddr + memSize > 0xffff_ffff_ffff_ffffn) throw new KernelImageError(`segment ${i}: [${hex(paddr)}, +${hex(memSize)}) wraps around the address space`);
    if (memSize === 0n) continue;
    segments.push({ paddr, vaddr, fileOffset: Number(fileOffset), fileSize: Number(fileSize), memSize: Number(memSize), flags });
  }
  if (segments.length === 0) throw new KernelImageError('the ELF has no non-empty PT_LOAD segment: nothing to load');
  return { entry, segments };
}

function checkInside(ram: RamWindow, start: bigint, size: number, what: string): void {
  const ramEnd = ram.base + BigInt(ram.size);
  const end = start + BigInt(size);
  if (start < ram.base || end > ramEnd) {
    throw new KernelImageError(`${what} [${hex(start)}, ${hex(end)}) is outside RAM [${hex(ram.base)}, ${hex(ramEnd)})`);
  }
}

/**
 * e_entry is a virtual address. The hart starts with satp = 0 (Linux boot.rst; KVM's reset state),
 * so when e_entry falls inside a segment whose p_vaddr differs from p_paddr (a higher-half link
 * loaded low with AT()), it is translated through that segment; otherwise it is used as is.
 */
export function physicalEntry(elf: ElfImage): bigint {
  for (const s of elf.segments) {
    if (elf.entry >= s.vaddr && elf.entry < s.vaddr + BigInt(s.memSize)) return s.paddr + (elf.entry - s.vaddr);
  }
  return elf.entry;
}

/** Validates `elf` against the RAM window, then copies its segments into `sink`. */
export function loadElf(bytes: Uint8Array, elf: ElfImage, ram: RamWindow, sink: ImageSink): LoadedImage {
  checkImageBytes(bytes);
  checkElfImage('loadElf', elf, bytes.length);
  checkRamAndSink('loadElf', ram, sink);
  return loadElfFrom(bytesReader(bytes), elf, ram, sink);
}

function loadElfFrom(image: ImageReader, elf: ElfImage, ram: RamWindow, sink: ImageSink): LoadedImage {
  elf.segments.forEach((s, i) => checkInside(ram, s.paddr, s.memSize, `segment ${i} (p_paddr ${hex(s.paddr)}, p_memsz ${hex(s.memSize)})`));
  const entry = physicalEntry(elf);
  const ramEnd = ram.base + BigInt(ram.size);
  if (entry < ram.base || entry >= ramEnd) {
    throw new KernelImageError(`entry point ${hex(entry)} is outside RAM [${hex(ram.base)}, ${hex(ramEnd)})`);
  }
  let start = elf.segments[0]!.paddr;
  let end = start;
  for (const s of elf.segments) {
    copyImage(image, s.fileOffset, s.fileSize, sink, s.paddr);
    // .bss and any other memsz > filesz tail reads as zero (gABI "Program header": p_memsz).
    if (s.memSize > s.fileSize) sink.fill(s.paddr + BigInt(s.fileSize), s.memSize - s.fileSize, 0);
    if (s.paddr < start) start = s.paddr;
    const e = s.paddr + BigInt(s.memSize);
    if (e > end) end = e;
  }
  return { kind: 'elf', entry, start, end, segments: elf.segments.map((s) => ({ paddr: s.paddr, memSize: s.memSize })) };
}

/** Copies a flat binary to RAM + 2 MiB and enters at its first byte. */
export function loadFlat(bytes: Uint8Array, ram: RamWindow, sink: ImageSink, address: bigint = KERNEL_LOAD_ADDRESS): LoadedImage {
  checkImageBytes(bytes);
  checkRamAndSink('loadFlat', ram, sink);
  checkU64('loadFlat', 'address', address);
  return loadFlatFrom(bytesReader(bytes), ram, sink, address);
}

function loadFlatFrom(image: ImageReader, ram: RamWindow, sink: ImageSink, address: bigint = KERNEL_LOAD_ADDRESS): LoadedImage {
  const length = image.length;
  if (length === 0) throw new KernelImageError('the image is empty (0 bytes)');
  checkInside(ram, address, length, `flat binary of ${length} bytes at`);
  copyImage(image, 0, length, sink, address);
  const end = address + BigInt(length);
  return { kind: 'flat', entry: address, start: address, end, segments: [{ paddr: address, memSize: length }] };
}

/**
 * A Linux RISC-V `Image`: copied to RAM + text_offset (which boot-image-header.rst requires to be
 * 2 MiB-aligned on rv64; 0 means an M-mode build, useless in S-mode), entered at its first byte;
 * `end` covers image_size so nothing else is placed in its BSS.
 */
export function loadLinuxImage(bytes: Uint8Array, ram: RamWindow, sink: ImageSink): LoadedImage | undefined {
  checkImageBytes(bytes);
  checkRamAndSink('loadLinuxImage', ram, sink);
  return loadLinuxImageFrom(bytesReader(bytes), ram, sink);
}

function loadLinuxImageFrom(image: ImageReader, ram: RamWindow, sink: ImageSink): LoadedImage | undefined {
  const header = parseRiscvImageHeader(image.read(0, Math.min(IMAGE_HEADER_BYTES, image.length)));
  if (!header) return undefined;
  if (header.textOffset === 0n || header.textOffset % 0x20_0000n !== 0n) {
    throw new KernelImageError(`Linux Image text_offset ${hex(header.textOffset)} is not a non-zero multiple of 2 MiB (an M-mode or rv32 build?)`);
  }
  if (header.flags & 1n) throw new KernelImageError('Linux Image header says big-endian (flags bit 0); RISC-V guests here are little-endian');
  const address = ram.base + header.textOffset;
  const size = header.imageSize > BigInt(image.length) ? header.imageSize : BigInt(image.length);
  if (size > 0xffff_ffffn) throw new KernelImageError(`Linux Image image_size ${hex(header.imageSize)} is larger than 4 GiB`);
  checkInside(ram, address, Number(size), `Linux Image (image_size ${hex(header.imageSize)}) at`);
  copyImage(image, 0, image.length, sink, address);
  return { kind: 'linux-image', entry: address, start: address, end: address + size, segments: [{ paddr: address, memSize: Number(size) }] };
}

/** Loads an ELF (by magic), a Linux Image (by its header magic) or a flat binary, from bytes or
 * from an ImageFile (read in chunks, image-file.ts); a file that is recognisably something else
 * (compressed, another architecture's kernel, a DTB, a cpio archive: foreign-image.ts) is a
 * KernelImageError saying what it is. */
export function loadKernelImage(image: Uint8Array | ImageFile, ram: RamWindow, sink: ImageSink): LoadedImage {
  if (!(image instanceof ImageFile)) checkImageBytes(image, 'kernel image');
  checkRamAndSink('loadKernelImage', ram, sink);
  return readImage(image, (reader) => {
    // A copy: the reader's next read may reuse the buffer this view is in.
    const head = reader.read(0, Math.min(FOREIGN_HEAD_BYTES, reader.length)).slice();
    if (isElf(head)) return loadElfFrom(reader, parseElfFrom(reader), ram, sink);
    const linux = loadLinuxImageFrom(reader, ram, sink);
    if (linux) return linux;
    // Not ELF, not a RISC-V Image: a flat binary, unless it is plainly something else.
    const foreign = describeForeignImage(head);
    if (foreign) throw new KernelImageError(foreign);
    return loadFlatFrom(reader, ram, sink);
  });
}
