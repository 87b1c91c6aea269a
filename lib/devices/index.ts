/**
 * Device models for the VMM (lib/vmm/board.ts wires them): register models on the MMIO bus that know
 * nothing about backends; output goes to injected sinks, interrupts to injected IrqLines, guest RAM
 * through a checked DmaMemory; each writes its own device-tree node and snapshots to named fields.
 *
 *   ns16550a.ts        16550A UART (ttyS0)
 *   plic.ts            SiFive/riscv,plic0 PLIC; S-context of hart h → that vCPU's external interrupt
 *   virtio/            virtio-mmio v2 transport, split virtqueues, console (hvc0), blk (vda), rng
 *   registry.ts        the list the board walks to map devices and write their FDT nodes
 */
export * from './irq.js';
export * from './device.js';
export * from './ns16550a.js';
export * from './plic.js';
export * from './registry.js';
export * from './virtio/spec.js';
export { type DmaMemory, VirtqueueError } from './virtio/dma-memory.js';
export type { VirtioDevice, VirtioQueueAccess } from './virtio/device.js';
export * from './virtio/virtqueue.js';
export * from './virtio/mmio-transport.js';
export * from './virtio/console.js';
export * from './virtio/blk.js';
export * from './virtio/rng.js';
