/**
 * The software KVM's "/dev/kvm" (lib/backend/types.ts Hypervisor): API version 12 and the
 * KVM_CHECK_EXTENSION answers of a riscv64 6.12 host without AIA (capabilities.ts).
 */
import type { Hypervisor, Vm, VmOptions } from '../types.js';
import { KvmStateError, checkCap } from '../../errors.js';
import { KVM_API_VERSION } from '../../abi/kvm.js';
import { checkEmulatorExtension } from './capabilities.js';
import type { TimeMode } from './clock.js';
import { EmulatorVm } from './vm.js';
import { warmUpOnce } from './warmup.js';

export interface EmulatorOptions {
  /** 'deterministic' (default): guest time counts retired instructions (clock.ts); 'realtime':
   * guest time follows the host's monotonic clock. */
  time?: TimeMode;
}

export class EmulatorHypervisor implements Hypervisor {
  readonly backend = 'emulator' as const;
  readonly #time: TimeMode;
  #closed = false;

  constructor(options: EmulatorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const time = options.time ?? 'deterministic';
    if (time !== 'deterministic' && time !== 'realtime') {
      throw new RangeError(`time must be 'deterministic' or 'realtime', got ${String(time)}`);
    }
    this.#time = time;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new KvmStateError('ERR_KVM_CLOSED', `${what}: the hypervisor handle is closed`);
  }

  apiVersion(): number {
    this.#checkOpen('apiVersion');
    return KVM_API_VERSION;
  }

  checkExtension(cap: number): number {
    checkCap(cap);
    this.#checkOpen('checkExtension');
    return checkEmulatorExtension(cap);
  }

  createVm(options: VmOptions = {}): Vm {
    this.#checkOpen('createVm');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.sbiV01 !== undefined && typeof options.sbiV01 !== 'boolean') {
      throw new TypeError(`sbiV01 must be a boolean, got ${typeof options.sbiV01}`);
    }
    // The process's first emulated VM: warm the interpreter's type feedback first (warmup.ts says
    // why here). Synchronous, at most once, never throws; KVM_RISCV_WARMUP=0 turns it off.
    warmUpOnce();
    return new EmulatorVm(options, this.#time);
  }

  /** VMs already created stay usable. */
  close(): void {
    this.#closed = true;
  }
}
