/**
 * The KVM backend: real KVM on riscv64 Linux through the kvm_riscv addon.
 *
 *   const hv = openKvm();            // throws KvmUnavailableError explaining why, elsewhere
 *   const vm = hv.createVm();
 */
import { KvmUnavailableError } from '../../errors.js';
import { KvmHypervisor } from './hypervisor.js';
import { checkDevicePath, kvmAvailability, probeKvm, type HostProbe } from './loader.js';
import type { NativeAddon } from './native.js';

export { KvmHypervisor } from './hypervisor.js';
export { KvmDevice, KvmVm } from './vm.js';
export { KvmVcpu } from './vcpu.js';
export { kvmAvailability, type KvmAvailability } from './loader.js';

/** The addon openKvm() loaded last (for stopVcpuByToken without probing again). */
let loadedAddon: NativeAddon | undefined;

/** Opens /dev/kvm (or `path`) through the addon. */
export function openKvm(path = '/dev/kvm', host?: HostProbe): KvmHypervisor {
  checkDevicePath(path);
  const probe = probeKvm(path, host);
  if (!probe.available || !probe.addon) throw new KvmUnavailableError(probe.reason, probe.tried);
  loadedAddon = probe.addon;
  return KvmHypervisor.open(probe.addon, path);
}

/**
 * stop() for the vCPU with this stopToken, callable from any thread of the process: immediate_exit
 * plus the kick signal, exactly as vcpu.stop(). Returns false when no such vCPU is alive (or the
 * addon is unavailable).
 */
export function stopVcpuByToken(token: number): boolean {
  if (!Number.isInteger(token) || token <= 0 || token > 0xffffffff) throw new RangeError(`token must be a positive u32, got ${token}`);
  const addon = loadedAddon ?? probeKvm().addon;
  return addon ? addon.stopVcpu(token) : false;
}

/** True where openKvm() would succeed (cheap enough to gate tests with). */
export function isKvmAvailable(path = '/dev/kvm'): boolean {
  checkDevicePath(path);
  return kvmAvailability(path).available;
}
