/**
 * The contract between the virtio-mmio transport and a virtio device type (console, block, rng):
 * the transport owns registers, feature negotiation, status and queues; the device owns its
 * configuration space and what its queues mean (virtio v1.2 §5).
 */
import type { DmaMemory } from './dma-memory.js';
import type { SplitVirtqueue } from './virtqueue.js';

/** What the transport lends a device while the driver is live. */
export interface VirtioQueueAccess {
  readonly memory: DmaMemory;
  queue(index: number): SplitVirtqueue;
  /** Sends a used-buffer notification for queue `index` unless the driver suppressed it. */
  notifyUsed(index: number): void;
}

export interface VirtioDevice<S = unknown> {
  /** §5 device ID. */
  readonly deviceId: number;
  /** Short name for FDT labels and diagnostics ("console", "blk", "rng"). */
  readonly kind: string;
  /** Device-type feature bits offered (the transport adds VIRTIO_F_VERSION_1). */
  readonly features: bigint;
  /** Maximum size of each queue, in queue order. */
  readonly queueMaxSizes: readonly number[];
  /** The device configuration space (§4.2.2 offset 0x100); reads past its end return 0. */
  readConfig(offset: number, size: number): number;
  /** A driver write to configuration space; most fields are read-only and ignore it. */
  writeConfig(offset: number, size: number, value: number): void;
  /** The driver notified queue `index` (QueueNotify). May throw VirtqueueError. */
  queueNotify(index: number, io: VirtioQueueAccess): void;
  /** Called after DRIVER_OK and after host-side input, so a device can push pending work. May
   * throw VirtqueueError. */
  poll?(io: VirtioQueueAccess): void;
  /** Device reset (status 0): forget in-flight state, keep host-side configuration. */
  reset(): void;
  /** The transport calls this once so host-side input can ask it to run poll() (see transport). */
  attach?(kick: () => void): void;
  snapshot(): S;
  restore(state: S): void;
}

/** Little-endian read of `size` bytes at `offset` of a config-space image; 0 outside it. */
export function readConfigBytes(config: Uint8Array, offset: number, size: number): number {
  if (offset < 0 || size < 1 || size > 4 || offset + size > config.length) return 0;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + config[offset + i]!;
  return v;
}
