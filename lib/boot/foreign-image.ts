/**
 * Files that are often given as the kernel by mistake and would otherwise be loaded as a flat
 * binary and "run" as garbage: compressed kernels, another architecture's Linux Image, a device
 * tree, an initramfs, a U-Boot image. Each is recognised by the magic number its own format
 * specification puts at a fixed offset, so that the error names what the file is and what to do.
 *
 * A flat RISC-V program that happens to begin with one of these byte sequences (2 to 6 given bytes
 * at a fixed offset; gzip's 1f 8b would be a 48-bit instruction, unprivileged spec §1.5) is possible
 * in principle but unlikely; such a program can still be loaded by wrapping it in an ELF.
 */

interface ForeignFormat {
  /** What the file is, for the message. */
  what: string;
  /** What to give instead. */
  advice: string;
  offset: number;
  magic: readonly number[];
}

const DECOMPRESS = 'decompress it first: the kernel must be an uncompressed Image, an ELF or a flat binary';

const FORMATS: readonly ForeignFormat[] = [
  // RFC 1952 §2.3.1: ID1 = 0x1f, ID2 = 0x8b.
  { what: 'a gzip-compressed file', advice: DECOMPRESS, offset: 0, magic: [0x1f, 0x8b] },
  // The .xz File Format 1.1.0 §2.1.1.1: header magic bytes.
  { what: 'an xz-compressed file', advice: DECOMPRESS, offset: 0, magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  // RFC 8878 §3.1.1: Magic_Number 0xFD2FB528, little-endian.
  { what: 'a zstd-compressed file', advice: DECOMPRESS, offset: 0, magic: [0x28, 0xb5, 0x2f, 0xfd] },
  // bzip2: "BZh" and a block-size digit.
  { what: 'a bzip2-compressed file', advice: DECOMPRESS, offset: 0, magic: [0x42, 0x5a, 0x68] },
  // LZ4 frame format §2 (0x184D2204 LE) and the legacy frame Linux uses for kernels (0x184C2102 LE).
  { what: 'an LZ4-compressed file', advice: DECOMPRESS, offset: 0, magic: [0x04, 0x22, 0x4d, 0x18] },
  { what: 'an LZ4-compressed file', advice: DECOMPRESS, offset: 0, magic: [0x02, 0x21, 0x4c, 0x18] },
  // Documentation/arch/arm64/booting.rst: magic "ARM\x64" at offset 56 of the Image header.
  { what: 'an arm64 Linux Image', advice: 'use a RISC-V kernel', offset: 56, magic: [0x41, 0x52, 0x4d, 0x64] },
  // Documentation/arch/x86/boot.rst: the real-mode header's "HdrS" at 0x202.
  { what: 'an x86 bzImage', advice: 'use a RISC-V kernel', offset: 0x202, magic: [0x48, 0x64, 0x72, 0x53] },
  // DTSpec v0.4 §5.2: FDT header magic 0xd00dfeed, big-endian.
  { what: 'a flattened device tree (DTB)', advice: 'kvm-riscv writes the device tree itself; give the kernel', offset: 0, magic: [0xd0, 0x0d, 0xfe, 0xed] },
  // Documentation/driver-api/early-userspace/buffer-format.rst: newc cpio headers start "070701"/"070702".
  { what: 'a cpio archive (an initramfs?)', advice: 'give it with --initrd (MachineConfig.initrd), and the kernel as the kernel', offset: 0, magic: [0x30, 0x37, 0x30, 0x37, 0x30, 0x31] },
  { what: 'a cpio archive (an initramfs?)', advice: 'give it with --initrd (MachineConfig.initrd), and the kernel as the kernel', offset: 0, magic: [0x30, 0x37, 0x30, 0x37, 0x30, 0x32] },
  // U-Boot include/image.h: IH_MAGIC 0x27051956, big-endian.
  { what: 'a U-Boot legacy image (uImage)', advice: 'give the Image inside it (dumpimage -T kernel)', offset: 0, magic: [0x27, 0x05, 0x19, 0x56] },
];

/** "a gzip-compressed file: decompress it first: ..." when `bytes` is one of the formats above. */
export function describeForeignImage(bytes: Uint8Array): string | undefined {
  for (const f of FORMATS) {
    if (bytes.length < f.offset + f.magic.length) continue;
    if (f.magic.every((b, i) => bytes[f.offset + i] === b)) return `this is ${f.what}, not a kernel: ${f.advice}`;
  }
  return undefined;
}
