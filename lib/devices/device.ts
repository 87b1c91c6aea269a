/**
 * What the board needs from a device: a register model on the MMIO bus (lib/vmm/bus.ts) that writes
 * its own device-tree node (style guide, examples 4 and 6) and can snapshot and restore its state.
 */
import type { FdtNode } from '../boot/fdt.js';
import type { MmioDevice } from '../vmm/bus.js';

/** Where the device sits and whom it interrupts, handed to writeFdtNode() by the registry. */
export interface FdtPlacement {
  /** Guest physical base and size of the device's MMIO window (the node's reg and unit address). */
  readonly base: bigint;
  readonly size: bigint;
  /** Phandle of the interrupt controller the device's `interrupts` refer to (the PLIC). */
  readonly interruptParent: number;
  /** Phandles of each hart's riscv,cpu-intc node, for interrupt controllers that target harts. */
  readonly cpuIntcPhandles: readonly number[];
}

export interface BoardDevice<S = unknown> extends MmioDevice {
  /** True for an interrupt controller: the registry writes it first and its phandle becomes the
   * interrupt parent of the other devices. */
  readonly isInterruptController?: boolean;
  /** Adds this device's node under `parent` and returns it. */
  writeFdtNode(parent: FdtNode, placement: FdtPlacement): FdtNode;
  /** The device's state as plain named fields (JSON-safe: 64-bit values are decimal strings). */
  snapshot(): S;
  /** Restores a snapshot() of a device built with the same options; throws RangeError on a
   * malformed snapshot (host-supplied, not guest-supplied). */
  restore(state: S): void;
}

/** Hex unit address as DTSpec §2.2.1 wants it (no leading zeros, no 0x). */
export function unitAddress(base: bigint): string {
  return base.toString(16);
}
