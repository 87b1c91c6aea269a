/**
 * The RISC-V Linux kernel `Image` header (Documentation/arch/riscv/boot-image-header.rst), 64 bytes,
 * little-endian:
 *    0 code0 u32, 4 code1 u32, 8 text_offset u64, 16 image_size u64, 24 flags u64,
 *   32 version u32, 36 res1 u32, 40 res2 u64, 48 magic u64 "RISCV\0\0\0" (deprecated),
 *   56 magic2 u32 "RSC\x05", 60 res3 u32 (PE header offset when there is an EFI stub).
 * image_size is the *effective* size including BSS: the loader must keep that much free after the
 * load address, not just the file size, or it would put the FDT or initrd inside the kernel's BSS.
 */

export const RISCV_IMAGE_MAGIC2 = 0x05435352; // "RSC\x05"
export const RISCV_IMAGE_MAGIC = 0x5643534952n; // "RISCV\0\0\0"
const HEADER_SIZE = 64;

export interface RiscvImageHeader {
  textOffset: bigint;
  imageSize: bigint;
  flags: bigint;
  /** major << 16 | minor */
  version: number;
}

/** The header when `bytes` starts with one (magic2, or the deprecated magic), else undefined. */
export function parseRiscvImageHeader(bytes: Uint8Array): RiscvImageHeader | undefined {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`image must be a Uint8Array of the file's bytes, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < HEADER_SIZE) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(56, true) !== RISCV_IMAGE_MAGIC2 && dv.getBigUint64(48, true) !== RISCV_IMAGE_MAGIC) return undefined;
  return {
    textOffset: dv.getBigUint64(8, true),
    imageSize: dv.getBigUint64(16, true),
    flags: dv.getBigUint64(24, true),
    version: dv.getUint32(32, true),
  };
}
