/**
 * KVM_CHECK_EXTENSION answers of the software KVM: what a riscv64 Linux 6.12 host *without* AIA
 * (no Ssaia, so no in-kernel irqchip) reports (kvm-riscv-abi.md §1.4; arch/riscv/kvm/vm.c
 * kvm_vm_ioctl_check_extension plus the generic answers of virt/kvm/kvm_main.c).
 *
 * Capabilities that only describe ioctls the backend-neutral API does not expose (IOEVENTFD, IRQFD,
 * COALESCED_MMIO, ...) are still answered as the kernel answers them, so feature probes written
 * against KVM see the same numbers here.
 */
import { onlineCpus } from '../../host/online-cpus.js';

/** KVM_MAX_VCPUS on riscv (arch/riscv/include/asm/kvm_host.h). */
export const EMULATOR_MAX_VCPUS = 1024;
/** KVM_USER_MEM_SLOTS (KVM_MEM_SLOTS_NUM minus the private slots; 32767 on riscv). */
export const EMULATOR_MAX_MEMSLOTS = 32767;
/** G-stage address bits of the emulated host: Sv48x4 (priv spec §9.5 "Two-Stage Address Translation"). */
export const EMULATOR_GPA_BITS = 50;

const CAPS = new Map<number, () => number>([
  [0, () => 0], // KVM_CAP_IRQCHIP: no in-kernel AIA
  [3, () => 1], // USER_MEMORY
  [9, () => Math.min(onlineCpus(), EMULATOR_MAX_VCPUS)], // NR_VCPUS = min(online CPUs, max)
  [10, () => EMULATOR_MAX_MEMSLOTS], // NR_MEMSLOTS
  [14, () => 1], // MP_STATE
  [15, () => 1], // COALESCED_MMIO (the ring's page offset)
  [16, () => 1], // SYNC_MMU
  [21, () => 1], // DESTROY_MEMORY_REGION_WORKS
  [23, () => 1], // SET_GUEST_DEBUG
  [25, () => 4096], // IRQ_ROUTING: KVM_MAX_IRQ_ROUTES
  [30, () => 1], // JOIN_MEMORY_REGIONS_WORKS
  [32, () => 1], // IRQFD
  [36, () => 1], // IOEVENTFD
  [40, () => 1], // INTERNAL_ERROR_DATA
  [66, () => EMULATOR_MAX_VCPUS], // MAX_VCPUS
  [70, () => 1], // ONE_REG
  [77, () => 1], // SIGNAL_MSI
  [81, () => 1], // READONLY_MEM
  [89, () => 1], // DEVICE_CTRL
  [98, () => 1], // ENABLE_CAP_VM
  [105, () => 1], // CHECK_EXTENSION_VM
  [122, () => 1], // IOEVENTFD_ANY_LENGTH
  [136, () => 1], // IMMEDIATE_EXIT
  [162, () => 1], // COALESCED_PIO
  [168, () => 3], // MANUAL_DIRTY_LOG_PROTECT2: KVM_DIRTY_LOG_MANUAL_CAPS
  [182, () => 1], // HALT_POLL
  [192, () => 0], // DIRTY_LOG_RING
  [203, () => 1], // BINARY_STATS_FD
  [207, () => EMULATOR_GPA_BITS], // VM_GPA_BITS
  [215, () => 1], // SYSTEM_EVENT_DATA
  [231, () => 1], // USER_MEMORY2
]);

/** KVM_CHECK_EXTENSION: the kernel takes a long and answers 0 for anything it does not know. */
export function checkEmulatorExtension(cap: number): number {
  if (!Number.isInteger(cap) || cap < 0 || cap > 0xffff_ffff) throw new RangeError(`cap must be a u32, got ${cap}`);
  const answer = CAPS.get(cap);
  return answer ? answer() : 0;
}
