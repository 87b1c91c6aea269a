/**
 * The emulator backend: a RISC-V hart written in TypeScript (cpu/) behind a software KVM (this
 * directory) that implements lib/backend/types.ts exactly as KVM on a riscv64 Linux 6.12 host
 * without AIA does (kvm-riscv-abi.md §7 "Parity checklist"). See scheduler.ts for how vCPUs are
 * run and clock.ts for how guest time advances.
 */
import type { Hypervisor } from '../types.js';
import { EmulatorHypervisor, type EmulatorOptions } from './hypervisor.js';

export type { EmulatorOptions } from './hypervisor.js';
export { TIMEBASE_HZ, INSNS_PER_TICK } from './clock.js';

/** A Hypervisor whose backend is 'emulator'. */
export function createEmulator(options?: EmulatorOptions): Hypervisor {
  return new EmulatorHypervisor(options);
}
