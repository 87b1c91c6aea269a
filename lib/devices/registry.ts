/**
 * The board's device registry (style guide, example 6, as kvmtool's device list): each device is
 * mapped on the MMIO bus at its window and remembered, so the board writes the device tree by
 * walking the registry instead of knowing every device.
 */
import type { FdtNode } from '../boot/fdt.js';
import type { MmioBus } from '../vmm/bus.js';
import type { BoardDevice } from './device.js';
import { checkMethods } from '../option-checks.js';

export interface RegisteredDevice {
  readonly name: string;
  readonly base: bigint;
  readonly size: bigint;
  readonly device: BoardDevice;
}

export class DeviceRegistry {
  private readonly entries: RegisteredDevice[] = [];

  constructor(private readonly bus: MmioBus) {
    checkMethods('DeviceRegistry', 'bus', bus, ['map'], false);
  }

  /** Maps `device` on the bus at [base, base + size) (the bus refuses bad or overlapping ranges
   * with a RangeError naming both) and records it. Names are unique. */
  add<D extends BoardDevice>(name: string, base: number | bigint, size: number | bigint, device: D): D {
    if (this.entries.some((e) => e.name === name)) throw new RangeError(`device '${name}' is already registered`);
    // writeFdtNode/snapshot/restore are called long after add(): check the device is one now.
    checkMethods('DeviceRegistry.add', `${String(name)}: device`, device, ['read', 'write', 'writeFdtNode', 'snapshot', 'restore'], false);
    const range = this.bus.map(name, base, size, device);
    this.entries.push({ name, base: range.base, size: range.size, device });
    return device;
  }

  list(): readonly RegisteredDevice[] {
    return this.entries;
  }

  get(name: string): BoardDevice | undefined {
    return this.entries.find((e) => e.name === name)?.device;
  }

  /**
   * Adds every device's node under `parent` (normally the root or /soc). Interrupt controllers go
   * first; the first one's phandle is the `interrupt-parent` of the others. Returns that phandle
   * (0 when there is no interrupt controller; devices then name phandle 0, which the board must
   * not allow, so adding a device with interrupts requires a controller).
   */
  writeFdtNodes(parent: FdtNode, cpuIntcPhandles: readonly number[]): number {
    const controllers = this.entries.filter((e) => e.device.isInterruptController);
    const others = this.entries.filter((e) => !e.device.isInterruptController);
    let interruptParent = 0;
    for (const e of controllers) {
      const node = e.device.writeFdtNode(parent, { base: e.base, size: e.size, interruptParent, cpuIntcPhandles });
      if (interruptParent === 0) interruptParent = node.phandle();
    }
    if (interruptParent === 0 && others.length > 0) {
      throw new RangeError(`devices ${others.map((e) => e.name).join(', ')} need an interrupt controller in the registry`);
    }
    for (const e of others) e.device.writeFdtNode(parent, { base: e.base, size: e.size, interruptParent, cpuIntcPhandles });
    return interruptParent;
  }

  /** Every device's snapshot by name. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.entries.map((e) => [e.name, e.device.snapshot()]));
  }

  /** Restores snapshot() output; every registered device must be present. */
  restore(state: Record<string, unknown>): void {
    for (const e of this.entries) {
      if (!(e.name in state)) throw new RangeError(`device snapshot has no entry for '${e.name}'`);
    }
    for (const e of this.entries) e.device.restore(state[e.name]);
  }
}
