/**
 * What a clean run of the Linux end-to-end guest (scripts/e2e/build-initramfs.sh: Debian's kernel,
 * the busybox initramfs whose /init prints KVM-RISCV-E2E lines, a virtio disk) looks like, on either
 * backend: the same transcript and exit mix are expected from the emulator (test/e2e) and from KVM
 * in the rig (test/kvm).
 */
import { expect } from 'vitest';

/** The console transcript and exit statistics of a 2-hart boot that powered off normally. */
export function expectCleanE2eBoot(out: string, exitsByReason: ReadonlyMap<string, number>): void {
  // Hart 1 was started by Linux through SBI HSM hart_start (in the kernel on either backend).
  expect(out).toContain('KVM-RISCV-E2E: cpus 2');
  expect(out).toContain('KVM-RISCV-E2E: console read [hello from the host]');
  expect(out).toContain('KVM-RISCV-E2E: disk [kvm-riscv e2e disk: sector zero]');
  expect(out).toContain('KVM-RISCV-E2E: powering off');
  expect(out).not.toContain('still running after poweroff');
  // The UART and the disk are user-space MMIO devices on both backends; the shutdown was one event.
  expect(exitsByReason.get('mmio')).toBeGreaterThan(100);
  expect(exitsByReason.get('system_event')).toBe(1);
}
