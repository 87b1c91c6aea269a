/**
 * The per-vCPU SBI timer (SBI spec v2.0 §6 "Timer Extension"), as arch/riscv/kvm/vcpu_timer.c keeps
 * it without Sstc: a deadline (`next_cycles`, ONE_REG timer.compare) and an armed flag (`next_set`,
 * ONE_REG timer.state). Arming clears the pending S timer interrupt; when guest time reaches the
 * deadline the interrupt becomes pending and the timer disarms itself (KVM's hrtimer callback).
 */
import { IRQ_S_TIMER, type HartApi } from './cpu/contract.js';
import type { GuestClock } from './clock.js';

/** KVM_RISCV_TIMER_STATE_ON / OFF. */
export const TIMER_STATE_ON = 1n;
export const TIMER_STATE_OFF = 0n;

export class VcpuTimer {
  /** ONE_REG timer.compare; KVM resets it to -1ULL. */
  compare = 0xffff_ffff_ffff_ffffn;
  armed = false;

  constructor(private readonly hart: HartApi, private readonly clock: GuestClock) {}

  /** kvm_riscv_vcpu_timer_next_event: SBI set_timer, and ONE_REG timer.state = ON (with 1). */
  nextEvent(deadline: bigint): void {
    this.hart.setPending(IRQ_S_TIMER, false);
    this.compare = BigInt.asUintN(64, deadline);
    this.armed = true;
    this.poll();
  }

  /** kvm_riscv_vcpu_timer_cancel: disarm, leave any pending interrupt alone. */
  cancel(): void {
    this.armed = false;
  }

  /** Fires the timer if its deadline has passed; true if it fired now. */
  poll(): boolean {
    if (!this.armed || this.clock.now() < this.compare) return false;
    this.armed = false;
    this.hart.setPending(IRQ_S_TIMER, true);
    return true;
  }

  /** The armed deadline, or null. */
  deadline(): bigint | null {
    return this.armed ? this.compare : null;
  }

  /** kvm_riscv_vcpu_timer_reset. */
  reset(): void {
    this.compare = 0xffff_ffff_ffff_ffffn;
    this.armed = false;
  }
}
