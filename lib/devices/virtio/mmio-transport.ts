/**
 * The virtio-mmio transport, version 2 registers only (virtio v1.2 §4.2.2; the legacy version-1
 * layout of §4.2.4 is not offered). It owns device status (§2.1), feature negotiation (§3.1.1),
 * the split virtqueues (§2.7) and the interrupt status; the device type behind it owns its config
 * space and queue semantics.
 *
 * Guest mistakes never reach the host as exceptions. Control registers take only aligned 32-bit
 * accesses (§4.2.2.2: "The driver MUST only use 32 bit wide and aligned reads and writes to access
 * the control registers"); anything else reads 0 and is ignored, as are writes to read-only
 * registers, to a queue that is already ready, or for a queue that does not exist. A virtqueue
 * error (bad ring address, descriptor loop, buffer outside RAM...) sets DEVICE_NEEDS_RESET and sends
 * a configuration-change notification (§2.1.2); the device then ignores notifications until the
 * driver resets it by writing 0 to Status (§4.2.3.1).
 */
import type { FdtNode } from '../../boot/fdt.js';
import type { AccessSize } from '../../vmm/bus.js';
import { unitAddress, type BoardDevice, type FdtPlacement } from '../device.js';
import { DISCONNECTED_IRQ, type IrqLine } from '../irq.js';
import { VirtqueueError, type DmaMemory } from './dma-memory.js';
import type { VirtioDevice, VirtioQueueAccess } from './device.js';
import { checkFunction, checkMethods, checkOptionalBoolean, checkOptionsObject, describeValue } from '../../option-checks.js';
import { checkIrqNumber } from '../plic.js';
import * as V from './spec.js';
import { SplitVirtqueue, type VirtqueueState } from './virtqueue.js';

/** "QEMU" in little-endian, the vendor ID Linux and QEMU's virt board use for virtio-mmio. */
export const VIRTIO_MMIO_VENDOR = 0x554d_4551;

export interface VirtioMmioOptions {
  memory: DmaMemory;
  irq?: IrqLine;
  /** The `interrupts` cell of the FDT node (the PLIC source number). */
  irqNumber: number;
  /** Offer VIRTIO_F_INDIRECT_DESC (§2.7.5.3); default true. Linux then sends each request as one
   * ring slot pointing at a table, so a queue holds many more requests in flight. */
  indirectDescriptors?: boolean;
  /** Told why the device set DEVICE_NEEDS_RESET (a guest driver bug), e.g. for a trace log. */
  onDeviceError?: (message: string) => void;
}

export interface VirtioQueueSnapshot {
  size: number;
  ready: boolean;
  /** Guest physical addresses as decimal strings (JSON-safe). */
  descAddr: string;
  driverAddr: string;
  deviceAddr: string;
  lastAvailIdx: number;
  usedIdx: number;
}

export interface VirtioMmioSnapshot<D = unknown> {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  driverFeatures: string;
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  queues: VirtioQueueSnapshot[];
  device: D;
}

export class VirtioMmioTransport<D = unknown> implements BoardDevice<VirtioMmioSnapshot<D>> {
  readonly device: VirtioDevice<D>;
  readonly irqNumber: number;
  private memory: DmaMemory;
  private readonly irq: IrqLine;
  private readonly queues: SplitVirtqueue[];
  private readonly offeredFeatures: bigint;
  private readonly onDeviceError: ((message: string) => void) | undefined;

  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private irqLevel = false;
  /** Why the device asked for a reset, for diagnostics. */
  lastError: string | undefined;

  private readonly access: VirtioQueueAccess;

  constructor(device: VirtioDevice<D>, opts: VirtioMmioOptions) {
    const who = 'VirtioMmioTransport';
    // The device's methods are called at guest accesses: a missing one must fail here, not as an
    // exception the guest triggers by touching a register.
    checkMethods(who, 'device', device, ['readConfig', 'writeConfig', 'queueNotify', 'reset', 'snapshot', 'restore'], false);
    if (typeof device.deviceId !== 'number') throw new TypeError(`${who}: device.deviceId must be a number, got ${describeValue(device.deviceId)}`);
    if (typeof device.features !== 'bigint') throw new TypeError(`${who}: device.features must be a bigint, got ${describeValue(device.features)}`);
    if (!Array.isArray(device.queueMaxSizes)) throw new TypeError(`${who}: device.queueMaxSizes must be an array, got ${describeValue(device.queueMaxSizes)}`);
    checkFunction(who, 'device.poll', device.poll, true);
    checkFunction(who, 'device.attach', device.attach, true);
    checkOptionsObject(who, opts);
    checkMethods(who, 'memory', opts.memory, ['contains', 'readBytes', 'writeBytes'], false);
    checkMethods(who, 'irq', opts.irq, ['set'], true);
    checkIrqNumber(who, opts.irqNumber);
    checkOptionalBoolean(who, 'indirectDescriptors', opts.indirectDescriptors);
    checkFunction(who, 'onDeviceError', opts.onDeviceError, true);
    this.device = device;
    this.memory = opts.memory;
    this.irq = opts.irq ?? DISCONNECTED_IRQ;
    this.irqNumber = opts.irqNumber;
    this.onDeviceError = opts.onDeviceError;
    this.queues = device.queueMaxSizes.map((n) => new SplitVirtqueue(n));
    this.offeredFeatures = device.features | (1n << BigInt(V.VIRTIO_F_VERSION_1))
      | ((opts.indirectDescriptors ?? true) ? 1n << BigInt(V.VIRTIO_F_INDIRECT_DESC) : 0n);
    const self = this;
    this.access = {
      get memory() { return self.memory; },
      queue: (i) => {
        const q = this.queues[i];
        if (!q) throw new RangeError(`${device.kind}: no queue ${i}`);
        return q;
      },
      notifyUsed: (i) => this.notifyUsed(i),
    };
    device.attach?.(() => this.poll());
  }

  /** Replaces the guest RAM accessor (e.g. after the machine re-created its memory). */
  attachMemory(memory: DmaMemory): void {
    this.memory = memory;
  }

  /** True once DRIVER_OK is set and no reset is needed: queues may be used. */
  get live(): boolean {
    return (this.status & V.VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (this.status & (V.VIRTIO_CONFIG_S_NEEDS_RESET | V.VIRTIO_CONFIG_S_FAILED)) === 0;
  }

  get deviceStatus(): number {
    return this.status;
  }

  /** Device-side config change (§2.1.4 / §4.2.2 ConfigGeneration): bump generation, notify. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    this.raise(V.VIRTIO_MMIO_INT_CONFIG);
  }

  read(offset: number, size: AccessSize): number | bigint {
    if (offset >= V.VIRTIO_MMIO_CONFIG) {
      const off = offset - V.VIRTIO_MMIO_CONFIG;
      if (size === 8) {
        // Split as the driver would (§4.2.2.2: 64-bit fields are read as two 32-bit halves).
        return BigInt(this.device.readConfig(off, 4)) | (BigInt(this.device.readConfig(off + 4, 4)) << 32n);
      }
      return this.device.readConfig(off, size);
    }
    if (size !== 4 || offset % 4 !== 0) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case V.VIRTIO_MMIO_MAGIC_VALUE: return V.VIRTIO_MMIO_MAGIC;
      case V.VIRTIO_MMIO_VERSION: return 2;
      case V.VIRTIO_MMIO_DEVICE_ID: return this.device.deviceId;
      case V.VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
      case V.VIRTIO_MMIO_DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case V.VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q.maxSize : 0;
      case V.VIRTIO_MMIO_QUEUE_READY: return q?.ready ? 1 : 0;
      case V.VIRTIO_MMIO_INTERRUPT_STATUS: return this.interruptStatus;
      case V.VIRTIO_MMIO_STATUS: return this.status;
      // No shared memory regions (§4.2.2: a non-existent region reads back length and base -1).
      case V.VIRTIO_MMIO_SHM_LEN_LOW: case V.VIRTIO_MMIO_SHM_LEN_HIGH:
      case V.VIRTIO_MMIO_SHM_BASE_LOW: case V.VIRTIO_MMIO_SHM_BASE_HIGH:
        return 0xffff_ffff;
      case V.VIRTIO_MMIO_CONFIG_GENERATION: return this.configGeneration;
      default: return 0; // write-only or reserved
    }
  }

  write(offset: number, size: AccessSize, wide: bigint): void {
    if (offset >= V.VIRTIO_MMIO_CONFIG) {
      const off = offset - V.VIRTIO_MMIO_CONFIG;
      if (size === 8) {
        this.device.writeConfig(off, 4, Number(wide & 0xffff_ffffn));
        this.device.writeConfig(off + 4, 4, Number((wide >> 32n) & 0xffff_ffffn));
      } else {
        this.device.writeConfig(off, size, Number(wide));
      }
      return;
    }
    if (size !== 4 || offset % 4 !== 0) return;
    const value = Number(wide & 0xffff_ffffn);
    const q = this.queues[this.queueSel];
    // Queue registers may only change while the queue is not ready (§4.2.3.2).
    const idleQueue = q && !q.ready ? q : undefined;
    switch (offset) {
      case V.VIRTIO_MMIO_DEVICE_FEATURES_SEL: this.deviceFeaturesSel = value; break;
      case V.VIRTIO_MMIO_DRIVER_FEATURES_SEL: this.driverFeaturesSel = value; break;
      case V.VIRTIO_MMIO_DRIVER_FEATURES:
        // Features are frozen once FEATURES_OK is set (§3.1.1); selectors above 1 select nothing.
        if ((this.status & V.VIRTIO_CONFIG_S_FEATURES_OK) || this.driverFeaturesSel > 1) break;
        {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
        }
        break;
      case V.VIRTIO_MMIO_QUEUE_SEL: this.queueSel = value; break;
      case V.VIRTIO_MMIO_QUEUE_NUM: if (idleQueue) idleQueue.size = value; break;
      case V.VIRTIO_MMIO_QUEUE_DESC_LOW: if (idleQueue) idleQueue.descAddr = setLow(idleQueue.descAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_DESC_HIGH: if (idleQueue) idleQueue.descAddr = setHigh(idleQueue.descAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_AVAIL_LOW: if (idleQueue) idleQueue.driverAddr = setLow(idleQueue.driverAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_AVAIL_HIGH: if (idleQueue) idleQueue.driverAddr = setHigh(idleQueue.driverAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_USED_LOW: if (idleQueue) idleQueue.deviceAddr = setLow(idleQueue.deviceAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_USED_HIGH: if (idleQueue) idleQueue.deviceAddr = setHigh(idleQueue.deviceAddr, value); break;
      case V.VIRTIO_MMIO_QUEUE_READY: if (q) this.setQueueReady(q, value === 1); break;
      case V.VIRTIO_MMIO_QUEUE_NOTIFY: this.queueNotify(value); break;
      case V.VIRTIO_MMIO_INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        this.updateIrq();
        break;
      case V.VIRTIO_MMIO_STATUS: this.writeStatus(value); break;
      default: break; // read-only or reserved (SHMSel selects nothing: there are no regions)
    }
  }

  private setQueueReady(q: SplitVirtqueue, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    try {
      q.validate(this.memory);
    } catch (e) {
      this.fail(e);
      return;
    }
    q.lastAvailIdx = 0;
    q.usedIdx = 0;
    q.ready = true;
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const newly = value & ~this.status;
    let next = (value & 0xff & ~V.VIRTIO_CONFIG_S_NEEDS_RESET) | (this.status & V.VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((newly & V.VIRTIO_CONFIG_S_FEATURES_OK) && !this.featuresAcceptable()) {
      // §3.1.1 step 5-6: leave FEATURES_OK clear; the driver re-reads Status and gives up.
      next &= ~V.VIRTIO_CONFIG_S_FEATURES_OK;
    }
    if ((newly & V.VIRTIO_CONFIG_S_DRIVER_OK) && !(next & V.VIRTIO_CONFIG_S_FEATURES_OK)) {
      next &= ~V.VIRTIO_CONFIG_S_DRIVER_OK; // DRIVER_OK without negotiated features means nothing
    }
    this.status = next;
    this.applyNegotiatedFeatures();
    if (newly & V.VIRTIO_CONFIG_S_DRIVER_OK) this.poll();
  }

  /** VIRTIO_F_VERSION_1 is required (§4.2.2: version 2 devices are non-legacy) and the driver may
   * accept only what was offered (§3.1.1). */
  private featuresAcceptable(): boolean {
    if (!(this.driverFeatures & (1n << BigInt(V.VIRTIO_F_VERSION_1)))) return false;
    return (this.driverFeatures & ~this.offeredFeatures) === 0n;
  }

  /** Tells the queues what the driver agreed to (only once FEATURES_OK holds). */
  private applyNegotiatedFeatures(): void {
    const agreed = (this.status & V.VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
    const indirect = agreed && (this.negotiatedFeatures & (1n << BigInt(V.VIRTIO_F_INDIRECT_DESC))) !== 0n;
    for (const q of this.queues) q.indirectAllowed = indirect;
  }

  /** The features both sides agreed on (valid once FEATURES_OK is set). */
  get negotiatedFeatures(): bigint {
    return this.driverFeatures & this.offeredFeatures;
  }

  private reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.lastError = undefined;
    for (const q of this.queues) q.reset();
    this.device.reset();
    this.updateIrq();
  }

  private queueNotify(index: number): void {
    const q = this.queues[index];
    if (!this.live || !q || !q.ready) return;
    this.runDevice(() => this.device.queueNotify(index, this.access));
  }

  /** Lets the device push pending host-side work (console input) if the driver is live. */
  poll(): void {
    if (!this.live || !this.device.poll) return;
    this.runDevice(() => this.device.poll!(this.access));
  }

  private runDevice(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  /** A guest-caused error: DEVICE_NEEDS_RESET plus a config-change notification (§2.1.2). Host
   * errors (bugs) are rethrown: they must not hide as guest faults. */
  private fail(e: unknown): void {
    if (!(e instanceof VirtqueueError)) throw e;
    this.lastError = e.message;
    if (this.status & V.VIRTIO_CONFIG_S_NEEDS_RESET) return;
    this.status |= V.VIRTIO_CONFIG_S_NEEDS_RESET;
    this.raise(V.VIRTIO_MMIO_INT_CONFIG);
    this.onDeviceError?.(`${this.device.kind}: ${e.message}`);
  }

  private notifyUsed(index: number): void {
    const q = this.queues[index];
    if (!q) return;
    if (q.wantsInterrupt(this.memory)) this.raise(V.VIRTIO_MMIO_INT_VRING);
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }

  writeFdtNode(parent: FdtNode, at: FdtPlacement): FdtNode {
    return parent.addNode(`virtio_mmio@${unitAddress(at.base)}`)
      .setString('compatible', 'virtio,mmio')
      .setAddressCells('reg', [at.base, at.size])
      .setU32('interrupts', this.irqNumber)
      .setU32('interrupt-parent', at.interruptParent);
  }

  snapshot(): VirtioMmioSnapshot<D> {
    return {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: this.driverFeatures.toString(),
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => queueToSnapshot(q.state())),
      device: this.device.snapshot(),
    };
  }

  restore(s: VirtioMmioSnapshot<D>): void {
    const u32 = (name: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`virtio-mmio snapshot: ${name} is not a u32`);
      return v;
    };
    if (!Array.isArray(s.queues) || s.queues.length !== this.queues.length) throw new RangeError(`virtio-mmio snapshot: expected ${this.queues.length} queues`);
    const states = s.queues.map((q, i) => queueFromSnapshot(q, i));
    // Check every field before changing anything, so a bad snapshot leaves the device as it was.
    const status = u32('status', s.status) & 0xff;
    const driverFeatures = parseU64('driverFeatures', s.driverFeatures);
    const deviceFeaturesSel = u32('deviceFeaturesSel', s.deviceFeaturesSel);
    const driverFeaturesSel = u32('driverFeaturesSel', s.driverFeaturesSel);
    const queueSel = u32('queueSel', s.queueSel);
    const interruptStatus = u32('interruptStatus', s.interruptStatus) & 3;
    const configGeneration = u32('configGeneration', s.configGeneration);
    const before = this.queues.map((q) => q.state());
    try {
      states.forEach((st, i) => this.queues[i]!.setState(st));
      this.device.restore(s.device); // device types check their whole snapshot before applying it
    } catch (e) {
      before.forEach((st, i) => this.queues[i]!.setState(st));
      throw e;
    }
    this.status = status;
    this.deviceFeaturesSel = deviceFeaturesSel;
    this.driverFeaturesSel = driverFeaturesSel;
    this.driverFeatures = driverFeatures;
    this.queueSel = queueSel;
    this.interruptStatus = interruptStatus;
    this.configGeneration = configGeneration;
    this.applyNegotiatedFeatures();
    this.irqLevel = this.interruptStatus !== 0;
    this.irq.set(this.irqLevel);
  }
}

function setLow(v: bigint, low: number): bigint {
  return (v & ~0xffff_ffffn) | BigInt(low >>> 0);
}

function setHigh(v: bigint, high: number): bigint {
  return (v & 0xffff_ffffn) | (BigInt(high >>> 0) << 32n);
}

function parseU64(name: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new RangeError(`virtio-mmio snapshot: ${name} is not a decimal u64`);
  const b = BigInt(v);
  if (b > 0xffff_ffff_ffff_ffffn) throw new RangeError(`virtio-mmio snapshot: ${name} is not a u64`);
  return b;
}

function queueToSnapshot(q: VirtqueueState): VirtioQueueSnapshot {
  return {
    size: q.size, ready: q.ready,
    descAddr: q.descAddr.toString(), driverAddr: q.driverAddr.toString(), deviceAddr: q.deviceAddr.toString(),
    lastAvailIdx: q.lastAvailIdx, usedIdx: q.usedIdx,
  };
}

function queueFromSnapshot(q: VirtioQueueSnapshot, i: number): VirtqueueState {
  if (typeof q !== 'object' || q === null) throw new RangeError(`virtio-mmio snapshot: queue ${i} is not an object`);
  return {
    size: q.size, ready: q.ready,
    descAddr: parseU64(`queues[${i}].descAddr`, q.descAddr),
    driverAddr: parseU64(`queues[${i}].driverAddr`, q.driverAddr),
    deviceAddr: parseU64(`queues[${i}].deviceAddr`, q.deviceAddr),
    lastAvailIdx: q.lastAvailIdx, usedIdx: q.usedIdx,
  };
}
