/**
 * The KVM backend: real KVM on riscv64 Linux through the kvm_riscv addon.
 *
 *   const hv = openKvm();            // throws KvmUnavailableError explaining why, elsewhere
 *   const vm = hv.createVm();
 */
import { KvmUnavailableError } from '../../errors.js';
import { KvmHypervisor } from './hypervisor.js';
import { kvmAvailability, probeKvm, type HostProbe } from './loader.js';

export { KvmHypervisor } from './hypervisor.js';
export { KvmDevice, KvmVm } from './vm.js';
export { KvmVcpu } from './vcpu.js';
export { kvmAvailability, type KvmAvailability } from './loader.js';

/** Opens /dev/kvm (or `path`) through the addon. */
export function openKvm(path = '/dev/kvm', host?: HostProbe): KvmHypervisor {
  const probe = probeKvm(path, host);
  if (!probe.available || !probe.addon) throw new KvmUnavailableError(probe.reason, probe.tried);
  return KvmHypervisor.open(probe.addon, path);
}

/** True where openKvm() would succeed (cheap enough to gate tests with). */
export function isKvmAvailable(path = '/dev/kvm'): boolean {
  return kvmAvailability(path).available;
}
