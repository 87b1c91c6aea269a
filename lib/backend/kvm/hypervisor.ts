/** The KVM Hypervisor: a /dev/kvm handle (api.rst §4.1–§4.5). */
import { KvmStateError, checkCap } from '../../errors.js';
import type { Hypervisor, VmOptions } from '../types.js';
import type { NativeAddon, NativeSystem } from './native.js';
import { nativeCall } from './native-errors.js';
import { KvmVm } from './vm.js';

export class KvmHypervisor implements Hypervisor {
  readonly backend = 'kvm' as const;
  #native: NativeSystem;
  #pageSize: number;
  #closed = false;

  constructor(native: NativeSystem, pageSize = 4096) {
    this.#native = native;
    this.#pageSize = pageSize;
  }

  /** Opens the device through the addon; errno failures become KvmError
   * ("open /dev/kvm: Permission denied", syscall "open"). */
  static open(addon: NativeAddon, path: string): KvmHypervisor {
    if (typeof path !== 'string') throw new TypeError(`path must be a string, got ${typeof path}`);
    const native = nativeCall(() => addon.openSystem(path));
    return new KvmHypervisor(native, addon.pageSize);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new KvmStateError('ERR_KVM_CLOSED', `${what}: the hypervisor handle is closed`);
  }

  apiVersion(): number {
    this.#checkOpen('apiVersion');
    return nativeCall(() => this.#native.apiVersion());
  }

  checkExtension(cap: number): number {
    checkCap(cap);
    this.#checkOpen('checkExtension');
    return nativeCall(() => this.#native.checkExtension(cap), `cap ${cap}`);
  }

  /** KVM_CREATE_VM type 0 (riscv ignores the type; kvm-riscv-abi.md §1.2). `sbiV01` is the host
   * kernel's decision under KVM and is ignored. */
  createVm(options: VmOptions = {}): KvmVm {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.#checkOpen('createVm');
    const vm = nativeCall(() => this.#native.createVm(0));
    return new KvmVm(vm, this.#pageSize);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}
