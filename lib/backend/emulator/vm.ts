/**
 * One emulated VM (lib/backend/types.ts Vm): memory slots, vCPUs, the guest clock, the in-kernel
 * SBI dispatcher and the scheduler that runs the vCPUs (scheduler.ts). It is also the "machine" the
 * SBI extensions act on (IPIs, HSM, SRST reach across vCPUs through it).
 */
import type { GuestMemory, MemoryRegionOptions, Vcpu, Vm, VmCapabilities, VmOptions } from '../types.js';
import { constants as bufferConstants } from 'node:buffer';
import { KvmStateError, checkCap, kvmErrno } from '../../errors.js';
import { ERRNO } from '../../abi/kvm.js';
import { Hart } from './cpu/hart.js';
import { Arena } from './cpu/arena.js';
import type { RamRegion } from './cpu/contract.js';
import { checkEmulatorExtension, EMULATOR_MAX_MEMSLOTS, EMULATOR_MAX_VCPUS } from './capabilities.js';
import { GuestClock, type TimeMode } from './clock.js';
import { KernelVcpu } from './kernel-vcpu.js';
import { MemorySlots } from './memory-slots.js';
import { SbiDispatcher } from './sbi/dispatch.js';
import { Scheduler, type SchedulerHost } from './scheduler.js';
import { EmulatorVcpu } from './vcpu.js';

/** The largest memory slot the emulator can back: the longest typed array V8 allows. */
export const MAX_SLOT_BYTES = bufferConstants.MAX_LENGTH;

function newArena(): Arena | null {
  try {
    return new Arena();
  } catch {
    return null; // no address space for another WebAssembly memory
  }
}

export class EmulatorVm implements Vm, SchedulerHost {
  readonly backend = 'emulator' as const;
  readonly capabilities: VmCapabilities = Object.freeze({
    irqchip: false,
    readonlyMemory: true,
    maxVcpus: EMULATOR_MAX_VCPUS,
    maxMemorySlots: EMULATOR_MAX_MEMSLOTS,
  });
  readonly clock: GuestClock;
  readonly sbi: SbiDispatcher;
  readonly sbiV01: boolean;
  readonly scheduler: Scheduler;
  /** Guest RAM, register files and TLBs in one WebAssembly memory (cpu/arena.ts), or null if
   * the host cannot reserve one (then everything works, compiled code just side-exits on RAM). */
  readonly #arena: Arena | null = newArena();
  readonly #slots = new MemorySlots(this.#arena);
  readonly #kernels: KernelVcpu[] = [];
  readonly #vcpus: EmulatorVcpu[] = [];
  #ram: RamRegion[] = [];
  #closed = false;

  constructor(options: VmOptions, time: TimeMode) {
    this.sbiV01 = options.sbiV01 ?? false;
    this.clock = new GuestClock(time);
    this.sbi = new SbiDispatcher(this.sbiV01);
    this.scheduler = new Scheduler(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get vcpus(): readonly Vcpu[] {
    return this.#vcpus;
  }

  get runners(): readonly EmulatorVcpu[] {
    return this.#vcpus;
  }

  /** KernelVcpus in creation order, for the SBI layer. */
  get kernelVcpus(): readonly KernelVcpu[] {
    return this.#kernels;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new KvmStateError('ERR_KVM_CLOSED', `${what}: the VM is closed`);
  }

  checkExtension(cap: number): number {
    checkCap(cap);
    this.#checkOpen('checkExtension');
    return checkEmulatorExtension(cap);
  }

  setMemoryRegion(options: MemoryRegionOptions): GuestMemory {
    this.#checkOpen('setMemoryRegion');
    // A slot is one typed array here, and V8 caps those (4 GiB on Node 20): say so in KVM's terms
    // (the mmap behind the slot fails, ENOMEM) before allocating, rather than V8's "Invalid typed
    // array length" after.
    const size = (options as Partial<MemoryRegionOptions> | null)?.size;
    if (typeof size === 'number' && Number.isSafeInteger(size) && size > MAX_SLOT_BYTES) {
      throw kvmErrno(ERRNO.ENOMEM, 'KVM_SET_USER_MEMORY_REGION',
        `slot ${String(options.slot)}: ${size} bytes is more than the emulator's largest slot, ${MAX_SLOT_BYTES} bytes`, 'mmap');
    }
    const memory = this.#slots.add(options);
    this.#publishRam();
    return memory;
  }

  deleteMemoryRegion(slot: number): void {
    this.#checkOpen('deleteMemoryRegion');
    this.#slots.delete(slot);
    this.#publishRam();
  }

  memoryRegions(): GuestMemory[] {
    this.#checkOpen('memoryRegions');
    return this.#slots.list();
  }

  getDirtyLog(slot: number): Uint8Array {
    this.#checkOpen('getDirtyLog');
    return this.#slots.dirtyLog(slot);
  }

  ramRegions(): readonly RamRegion[] {
    return this.#ram;
  }

  #publishRam(): void {
    this.#ram = this.#slots.ramRegions();
    for (const k of this.#kernels) {
      k.hart.setRam(this.#ram);
      k.hart.flushCode();
    }
  }

  /** KVM_CREATE_VCPU. Like the KVM backend's wrapper, an id outside [0, KVM_MAX_VCPUS) is a
   * RangeError; the kernel answers EINVAL past KVM_MAX_VCPUS vCPUs and EEXIST for a duplicate id
   * (virt/kvm/kvm_main.c kvm_vm_ioctl_create_vcpu). */
  createVcpu(id: number): Vcpu {
    if (typeof id !== 'number') throw new TypeError(`id must be a number, got ${typeof id}`);
    if (!Number.isInteger(id) || id < 0 || id >= EMULATOR_MAX_VCPUS) {
      throw new RangeError(`vCPU id must be an integer in [0, ${EMULATOR_MAX_VCPUS}), got ${id}`);
    }
    this.#checkOpen('createVcpu');
    if (this.#kernels.length >= EMULATOR_MAX_VCPUS) throw kvmErrno(ERRNO.EINVAL, 'KVM_CREATE_VCPU', 'too many vCPUs');
    if (this.#kernels.some((k) => k.id === id)) throw kvmErrno(ERRNO.EEXIST, 'KVM_CREATE_VCPU', `vcpu ${id} exists`);
    const hart = new Hart(id, { readTime: () => this.clock.now() }, this.#arena ?? undefined);
    hart.setRam(this.#ram);
    const kernel = new KernelVcpu(id, this.#kernels.length, hart, this.clock);
    const vcpu = new EmulatorVcpu(this, kernel);
    this.#kernels.push(kernel);
    this.#vcpus.push(vcpu);
    return vcpu;
  }

  /** KVM_IRQ_LINE needs the in-kernel AIA, which this "host" does not have. */
  irqLine(irq: number, level: boolean): void {
    this.#checkOpen('irqLine');
    if (typeof irq !== 'number') throw new TypeError(`irq must be a number, got ${typeof irq}`);
    if (!Number.isInteger(irq) || irq < 0 || irq > 0xffff_ffff) throw new RangeError(`irq must be a u32, got ${irq}`);
    if (typeof level !== 'boolean') throw new TypeError(`level must be a boolean, got ${typeof level}`);
    throw kvmErrno(ERRNO.ENXIO, 'KVM_IRQ_LINE', `irq ${irq}: no in-kernel irqchip`);
  }

  vcpuById(id: bigint): KernelVcpu | undefined {
    return this.#kernels.find((k) => BigInt(k.id) === id);
  }

  wake(): void {
    this.scheduler.kick();
  }

  close(): void {
    if (this.#closed) return;
    for (const v of this.#vcpus) v.close();
    this.#closed = true;
    this.scheduler.dispose();
    this.#slots.clear();
    this.#ram = [];
  }
}
