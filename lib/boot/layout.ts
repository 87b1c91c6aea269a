/**
 * The guest physical memory map, one table of documented constants.
 *
 * It follows QEMU's `virt` board (hw/riscv/virt.c, `virt_memmap[]`) so that bare-metal programs and
 * kernels written for `qemu-system-riscv64 -machine virt` find RAM and devices where they expect
 * them. Only the regions this VMM models or reserves are listed; everything else is unmapped
 * (loads read 0, stores are ignored; see lib/vmm/bus.ts).
 */
import { checkInteger, checkNumber, checkU64 } from '../option-checks.js';

export interface MemoryMapEntry {
  readonly base: bigint;
  readonly size: bigint;
  /** What lives there and why at that address. */
  readonly doc: string;
}

export const MEMMAP = {
  /** QEMU virt VIRT_PLIC: 0x0c00_0000; size = context base 0x20_0000 + 2 contexts × 0x1000 for each of
   * up to 512 harts (VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2)); we reserve the classic 0x60_0000 window. */
  plic: { base: 0x0c00_0000n, size: 0x0060_0000n, doc: 'PLIC (riscv,plic0), QEMU virt VIRT_PLIC' },
  /** QEMU virt VIRT_UART0: one 16550A at 0x1000_0000, 0x100 bytes. */
  uart0: { base: 0x1000_0000n, size: 0x100n, doc: 'NS16550A UART, QEMU virt VIRT_UART0' },
  /** QEMU virt VIRT_VIRTIO: virtio-mmio transports from 0x1000_1000, 0x1000 apart (8 of them). */
  virtio: { base: 0x1000_1000n, size: 0x8000n, doc: 'virtio-mmio slots, QEMU virt VIRT_VIRTIO (8 × 0x1000)' },
  /** QEMU virt VIRT_DRAM: RAM starts at 2 GiB. */
  dram: { base: 0x8000_0000n, size: 0n, doc: 'RAM (size chosen per VM), QEMU virt VIRT_DRAM' },
} as const satisfies Record<string, MemoryMapEntry>;

/** Guest RAM base (QEMU virt, kvmtool, crosvm all use 0x8000_0000). */
export const RAM_BASE = MEMMAP.dram.base;
/** Linux/RISC-V rv64 wants the kernel 2 MiB-aligned (boot-image-header.rst text_offset 0x20_0000);
 * kvmtool and crosvm load it at RAM + 2 MiB, and so do we for flat binaries. */
export const KERNEL_OFFSET = 0x20_0000n;
export const KERNEL_LOAD_ADDRESS = RAM_BASE + KERNEL_OFFSET;
export const VIRTIO_MMIO_STRIDE = 0x1000n;
export const VIRTIO_MMIO_COUNT = 8;
/** Bytes of RAM the FDT may take; kvmtool and crosvm cap it at 64 KiB too. */
export const FDT_MAX_SIZE = 0x1_0000;
/** The FDT goes 2 MiB-aligned near the top of RAM, below 3 GiB of RAM (as QEMU virt does), so it
 * stays clear of the kernel and of 32-bit-only DMA windows. */
export const FDT_ALIGN = 0x20_0000n;
const FDT_MAX_RAM_OFFSET = 3n << 30n;

/** Default and limits for --memory. RAM must be 4 KiB-granular (KVM memslots) and at least big
 * enough for the 2 MiB kernel offset, the kernel and a 2 MiB-aligned FDT slot above it. */
export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;
export const MIN_RAM_SIZE = 8 * 1024 * 1024;
/** Capped where a JS Buffer / ArrayBuffer still fits comfortably on 64-bit hosts. */
export const MAX_RAM_SIZE = 16 * 1024 * 1024 * 1024;
export const PAGE_SIZE = 4096;

/** Address of the virtio-mmio transport `index` (0-7). */
export function virtioMmioBase(index: number): bigint {
  checkNumber('virtioMmioBase', 'index', index);
  if (!Number.isInteger(index) || index < 0 || index >= VIRTIO_MMIO_COUNT) throw new RangeError(`virtio-mmio index ${index} is not 0..${VIRTIO_MMIO_COUNT - 1}`);
  return MEMMAP.virtio.base + BigInt(index) * VIRTIO_MMIO_STRIDE;
}

/**
 * Where the FDT goes in RAM of `ramSize` bytes: the highest 2 MiB-aligned address that leaves room
 * for `fdtSize` bytes, below RAM + 3 GiB; it must not overlap the loaded image ending at `imageEnd`.
 */
export function fdtAddress(ramSize: number, fdtSize: number, imageEnd: bigint): bigint {
  // BigInt() of a fractional or NaN size would throw an unnamed RangeError further down.
  checkInteger('fdtAddress', 'ramSize', ramSize, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('fdtAddress', 'fdtSize', fdtSize, 0, Number.MAX_SAFE_INTEGER);
  checkU64('fdtAddress', 'imageEnd', imageEnd);
  if (fdtSize > FDT_MAX_SIZE) throw new RangeError(`the FDT is ${fdtSize} bytes, more than ${FDT_MAX_SIZE}`);
  const top = RAM_BASE + (BigInt(ramSize) < FDT_MAX_RAM_OFFSET ? BigInt(ramSize) : FDT_MAX_RAM_OFFSET);
  const addr = ((top - BigInt(fdtSize)) / FDT_ALIGN) * FDT_ALIGN;
  if (addr < imageEnd || addr < RAM_BASE) {
    throw new RangeError(`no room for the ${fdtSize}-byte FDT: the image ends at 0x${imageEnd.toString(16)} and RAM at 0x${top.toString(16)}`);
  }
  return addr;
}

/** PLIC interrupt sources as on QEMU virt (hw/riscv/virt.h: VIRTIO_IRQ = 1..8, UART0_IRQ = 10,
 * VIRT_IRQCHIP_NUM_SOURCES = 96, so riscv,ndev = 95: source 0 is reserved, PLIC spec §2). */
export const PLIC_NUM_SOURCES = 95;
export const UART0_IRQ = 10;
/** The IRQ of virtio-mmio transport `index` is VIRTIO_IRQ_BASE + index. */
export const VIRTIO_IRQ_BASE = 1;
