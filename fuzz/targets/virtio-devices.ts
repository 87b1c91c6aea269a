/**
 * The virtio-mmio devices the "devices" fuzz target puts on its bus: rng, console and block
 * (lib/devices/virtio), each behind its own transport, DMA into the case's guest RAM.
 */
import type { GuestMemory } from '../../lib/backend/types.js';
import { VIRTIO_IRQ_BASE } from '../../lib/boot/layout.js';
import type { IrqLine } from '../../lib/devices/irq.js';
import { VirtioBlk } from '../../lib/devices/virtio/blk.js';
import { VirtioConsole } from '../../lib/devices/virtio/console.js';
import { VirtioMmioTransport } from '../../lib/devices/virtio/mmio-transport.js';
import { VirtioRng } from '../../lib/devices/virtio/rng.js';
import * as V from '../../lib/devices/virtio/spec.js';
import type { MmioDevice } from '../../lib/vmm/bus.js';

export interface VirtioUnderTest {
  kind: string;
  device: MmioDevice;
  /** Host-side input, for devices that take it. */
  input?: (data: Uint8Array) => void;
}

/** Control register offsets (virtio v1.2 §4.2.2), to bias random accesses towards them. */
export const VIRTIO_REGISTERS: readonly number[] = [
  V.VIRTIO_MMIO_MAGIC_VALUE, V.VIRTIO_MMIO_VERSION, V.VIRTIO_MMIO_DEVICE_ID, V.VIRTIO_MMIO_VENDOR_ID,
  V.VIRTIO_MMIO_DEVICE_FEATURES, V.VIRTIO_MMIO_DEVICE_FEATURES_SEL, V.VIRTIO_MMIO_DRIVER_FEATURES,
  V.VIRTIO_MMIO_DRIVER_FEATURES_SEL, V.VIRTIO_MMIO_QUEUE_SEL, V.VIRTIO_MMIO_QUEUE_NUM_MAX, V.VIRTIO_MMIO_QUEUE_NUM,
  V.VIRTIO_MMIO_QUEUE_READY, V.VIRTIO_MMIO_QUEUE_NOTIFY, V.VIRTIO_MMIO_INTERRUPT_STATUS, V.VIRTIO_MMIO_INTERRUPT_ACK,
  V.VIRTIO_MMIO_STATUS, V.VIRTIO_MMIO_QUEUE_DESC_LOW, V.VIRTIO_MMIO_QUEUE_DESC_HIGH, V.VIRTIO_MMIO_QUEUE_AVAIL_LOW,
  V.VIRTIO_MMIO_QUEUE_AVAIL_HIGH, V.VIRTIO_MMIO_QUEUE_USED_LOW, V.VIRTIO_MMIO_QUEUE_USED_HIGH, V.VIRTIO_MMIO_SHM_SEL,
  V.VIRTIO_MMIO_SHM_LEN_LOW, V.VIRTIO_MMIO_SHM_BASE_LOW, V.VIRTIO_MMIO_QUEUE_RESET, V.VIRTIO_MMIO_CONFIG_GENERATION,
  V.VIRTIO_MMIO_CONFIG,
];

export function createVirtioDevices(ram: GuestMemory, diskFd: number, irqLine: (n: number) => IrqLine): VirtioUnderTest[] {
  const transport = <D>(d: ConstructorParameters<typeof VirtioMmioTransport<D>>[0], index: number): VirtioMmioTransport<D> =>
    new VirtioMmioTransport(d, { memory: ram, irq: irqLine(VIRTIO_IRQ_BASE + index), irqNumber: VIRTIO_IRQ_BASE + index });
  let seed = 1;
  const rng = new VirtioRng({ source: (b) => { for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24; } });
  const console = new VirtioConsole({ sink: () => {} });
  const blk = new VirtioBlk({ fd: diskFd, sizeBytes: 64 * 1024 });
  return [
    { kind: 'rng', device: transport(rng, 0) },
    { kind: 'console', device: transport(console, 1), input: (d) => { console.input(d); } },
    { kind: 'blk', device: transport(blk, 2) },
  ];
}
