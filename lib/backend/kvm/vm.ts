/**
 * The KVM VM: memory slots, vCPUs and the irq line over a native VM handle. Validation happens
 * here, before the kernel sees anything (overlaps, reuse and misalignment are RangeErrors naming
 * the argument), so KVM errors that remain are real ones.
 */
import {
  ERRNO,
  KVM_CAP_IRQCHIP,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_READONLY_MEM,
  KVM_DIRTY_LOG_PAGE_SIZE,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
} from '../../abi/kvm.js';
import { KvmStateError, checkCap, kvmErrno } from '../../errors.js';
import { ArrayBufferGuestMemory } from '../guest-memory.js';
import type { GuestMemory, MemoryRegionOptions, Vm, VmCapabilities } from '../types.js';
import type { NativeDeviceAttrOp, NativeVm } from './native.js';
import { nativeCall } from './native-errors.js';
import { KvmVcpu, toWord } from './vcpu.js';

const U64_LIMIT = 1n << 64n;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export function toGpa(value: number | bigint, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= U64_LIMIT) throw new RangeError(`${name} ${value} is not a u64`);
    return value;
  }
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number or bigint, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return BigInt(value);
}

interface Region {
  memory: ArrayBufferGuestMemory;
  logDirty: boolean;
}

export class KvmVm implements Vm {
  readonly backend = 'kvm' as const;
  readonly capabilities: VmCapabilities;
  #native: NativeVm;
  #regions = new Map<number, Region>();
  #vcpus: KvmVcpu[] = [];
  #closed = false;
  /** Host page size: slots must be aligned to it as well as to 4 KiB. */
  #pageSize: number;

  constructor(native: NativeVm, pageSize = 4096) {
    this.#native = native;
    this.#pageSize = Math.max(pageSize, KVM_DIRTY_LOG_PAGE_SIZE);
    const cap = (c: number) => {
      try {
        return native.checkExtension(c);
      } catch {
        return 0;
      }
    };
    this.capabilities = Object.freeze({
      irqchip: cap(KVM_CAP_IRQCHIP) > 0,
      readonlyMemory: cap(KVM_CAP_READONLY_MEM) > 0,
      maxVcpus: cap(KVM_CAP_MAX_VCPUS) || cap(KVM_CAP_NR_VCPUS) || 1,
      maxMemorySlots: cap(KVM_CAP_NR_MEMSLOTS) || 32,
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get vcpus(): readonly KvmVcpu[] {
    return this.#vcpus.slice();
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new KvmStateError('ERR_KVM_CLOSED', `${what}: the VM is closed`);
  }

  checkExtension(cap: number): number {
    checkCap(cap);
    this.#checkOpen('checkExtension');
    return nativeCall(() => this.#native.checkExtension(cap), `cap ${cap}`);
  }

  #checkSlot(slot: unknown): number {
    if (typeof slot !== 'number') throw new TypeError(`slot must be a number, got ${typeof slot}`);
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capabilities.maxMemorySlots) {
      throw new RangeError(`slot must be an integer in [0, ${this.capabilities.maxMemorySlots}), got ${slot}`);
    }
    return slot;
  }

  setMemoryRegion(options: MemoryRegionOptions): GuestMemory {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const slot = this.#checkSlot(options.slot);
    const gpa = toGpa(options.guestPhysAddr, 'guestPhysAddr');
    const size = options.size;
    if (typeof size !== 'number') throw new TypeError(`size must be a number, got ${typeof size}`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % this.#pageSize !== 0) {
      throw new RangeError(`size must be a non-zero multiple of ${this.#pageSize}, got ${size}`);
    }
    if (gpa % BigInt(this.#pageSize) !== 0n) throw new RangeError(`guestPhysAddr ${hex(gpa)} is not ${this.#pageSize}-byte aligned`);
    const end = gpa + BigInt(size);
    if (end > U64_LIMIT) throw new RangeError(`region ${hex(gpa)} + ${size} overflows the guest physical address space`);
    for (const key of ['readonly', 'logDirty'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new TypeError(`${key} must be a boolean, got ${typeof options[key]}`);
    }
    this.#checkOpen('setMemoryRegion');
    if (this.#regions.has(slot)) throw new RangeError(`slot ${slot} is already in use; delete it first`);
    for (const { memory: m } of this.#regions.values()) {
      const mEnd = m.guestPhysAddr + BigInt(m.size);
      if (gpa < mEnd && m.guestPhysAddr < end) {
        throw new RangeError(
          `region [${hex(gpa)}, ${hex(end)}) overlaps slot ${m.slot} [${hex(m.guestPhysAddr)}, ${hex(mEnd)})`,
        );
      }
    }
    const readonly = options.readonly === true;
    const logDirty = options.logDirty === true;
    const flags = (readonly ? KVM_MEM_READONLY : 0) | (logDirty ? KVM_MEM_LOG_DIRTY_PAGES : 0);
    const buffer = nativeCall(() => this.#native.setMemoryRegion(slot, flags, gpa, size), `slot ${slot} at ${hex(gpa)}`);
    const memory = new ArrayBufferGuestMemory(slot, gpa, size, readonly, buffer);
    this.#regions.set(slot, { memory, logDirty });
    return memory;
  }

  deleteMemoryRegion(slot: number): void {
    this.#checkSlot(slot);
    this.#checkOpen('deleteMemoryRegion');
    const region = this.#regions.get(slot);
    if (!region) throw new RangeError(`slot ${slot} is not in use`);
    nativeCall(() => this.#native.deleteMemoryRegion(slot), `delete slot ${slot}`);
    this.#regions.delete(slot);
    region.memory.invalidate();
  }

  memoryRegions(): GuestMemory[] {
    return [...this.#regions.values()].map((r) => r.memory).sort((a, b) => a.slot - b.slot);
  }

  getDirtyLog(slot: number): Uint8Array {
    this.#checkSlot(slot);
    this.#checkOpen('getDirtyLog');
    const region = this.#regions.get(slot);
    if (!region) throw new RangeError(`slot ${slot} is not in use`);
    if (!region.logDirty) throw new RangeError(`slot ${slot} was created without logDirty`);
    const pages = region.memory.size / KVM_DIRTY_LOG_PAGE_SIZE;
    // The kernel fills whole unsigned longs (64 pages each); return exactly one bit per page.
    const bitmap = new Uint8Array(Math.ceil(pages / 64) * 8);
    nativeCall(() => this.#native.getDirtyLog(slot, bitmap), `slot ${slot}`);
    return bitmap.slice(0, Math.ceil(pages / 8));
  }

  createVcpu(id: number): KvmVcpu {
    if (typeof id !== 'number') throw new TypeError(`id must be a number, got ${typeof id}`);
    if (!Number.isInteger(id) || id < 0 || id >= this.capabilities.maxVcpus) {
      throw new RangeError(`vCPU id must be an integer in [0, ${this.capabilities.maxVcpus}), got ${id}`);
    }
    this.#checkOpen('createVcpu');
    // KVM answers a duplicate id with EEXIST (virt/kvm/kvm_main.c kvm_vm_ioctl_create_vcpu); say so
    // without the round trip, in the same shape.
    if (this.#vcpus.some((v) => v.id === id)) throw kvmErrno(ERRNO.EEXIST, 'KVM_CREATE_VCPU', `vcpu ${id}`);
    const native = nativeCall(() => this.#native.createVcpu(id), `vcpu ${id}`);
    const vcpu = new KvmVcpu(native, id, (v) => {
      const i = this.#vcpus.indexOf(v);
      if (i >= 0 && !this.#closed) this.#vcpus.splice(i, 1);
    });
    this.#vcpus.push(vcpu);
    return vcpu;
  }

  irqLine(irq: number, level: boolean): void {
    if (typeof irq !== 'number') throw new TypeError(`irq must be a number, got ${typeof irq}`);
    if (!Number.isInteger(irq) || irq < 0 || irq > 0xffffffff) throw new RangeError(`irq must be a u32, got ${irq}`);
    if (typeof level !== 'boolean') throw new TypeError(`level must be a boolean, got ${typeof level}`);
    this.#checkOpen('irqLine');
    nativeCall(() => this.#native.irqLine(irq, level), `irq ${irq}`);
  }

  /**
   * KVM_CREATE_DEVICE (riscv: the AIA, type KVM_DEV_TYPE_RISCV_AIA, kvm-riscv-abi.md §1.8). Returns
   * a handle for its attributes, or throws KvmError (ENODEV where the host has no Ssaia). KVM-only:
   * not part of the backend-neutral Vm.
   */
  createDevice(type: number): KvmDevice {
    if (typeof type !== 'number') throw new TypeError(`type must be a number, got ${typeof type}`);
    if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) throw new RangeError(`type must be a u32, got ${type}`);
    this.#checkOpen('createDevice');
    const fd = nativeCall(() => this.#native.createDevice(type, false), `type ${type}`);
    return new KvmDevice(this.#native, fd, () => this.#closed);
  }

  /** KVM_CREATE_DEVICE with KVM_CREATE_DEVICE_TEST: whether the device type exists. */
  hasDevice(type: number): boolean {
    if (typeof type !== 'number') throw new TypeError(`type must be a number, got ${typeof type}`);
    if (!Number.isInteger(type) || type < 0 || type > 0xffffffff) throw new RangeError(`type must be a u32, got ${type}`);
    this.#checkOpen('hasDevice');
    try {
      this.#native.createDevice(type, true);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const v of this.#vcpus) v.close();
    // Native close: stops and joins vCPU threads, deletes every slot (size 0), closes the fd. The
    // memory itself is unmapped only when the last JS reference to its buffer goes.
    this.#native.close();
    for (const r of this.#regions.values()) r.memory.invalidate();
    this.#regions.clear();
    this.#vcpus = [];
  }
}

/** An in-kernel device's attributes (api.rst §4.81 KVM_{SET,GET,HAS}_DEVICE_ATTR). */
export class KvmDevice {
  readonly fd: number;
  #native: NativeVm;
  #vmClosed: () => boolean;

  constructor(native: NativeVm, fd: number, vmClosed: () => boolean) {
    this.#native = native;
    this.fd = fd;
    this.#vmClosed = vmClosed;
  }

  #op(op: NativeDeviceAttrOp, group: number, attr: number | bigint, data?: Uint8Array): boolean | undefined {
    if (this.#vmClosed()) throw new KvmStateError('ERR_KVM_CLOSED', 'device attribute: the VM is closed');
    if (typeof group !== 'number') throw new TypeError(`group must be a number, got ${typeof group}`);
    if (!Number.isInteger(group) || group < 0 || group > 0xffffffff) throw new RangeError(`group must be a u32, got ${group}`);
    const a = toGpa(attr, 'attr');
    return nativeCall(() => this.#native.deviceAttr(op, this.fd, group, a, data), `group ${group} attr ${a}`);
  }

  has(group: number, attr: number | bigint): boolean {
    return this.#op(0, group, attr) === true;
  }

  /** Reads a u32 or u64 attribute (returned as bigint). */
  get(group: number, attr: number | bigint): bigint {
    const data = new Uint8Array(8);
    this.#op(1, group, attr, data);
    return new DataView(data.buffer).getBigUint64(0, true);
  }

  set(group: number, attr: number | bigint, value: number | bigint = 0): void {
    const v = toWord(value, 64, 'value');
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, v, true);
    this.#op(2, group, attr, data);
  }
}
