/**
 * Legacy SBI v0.1 (SBI spec v2.0 §5), present only when the emulated host kernel is built with
 * CONFIG_RISCV_SBI_V01 (VmOptions.sbiV01; Debian's is not). As arch/riscv/kvm/vcpu_sbi_v01.c:
 * console putchar/getchar are forwarded to user space, shutdown is a SYSTEM_EVENT, the rest is
 * handled here. Hart masks are guest virtual pointers (0 = every hart); a pointer that faults is a
 * trap redirected into the guest. Legacy calls return only a0.
 */
import * as SBI from '../../../abi/sbi.js';
import { KVM_SYSTEM_EVENT_SHUTDOWN } from '../../../abi/kvm.js';
import { IRQ_S_SOFT } from '../cpu/contract.js';
import { CSR_SATP, CSR_SSTATUS, type KernelVcpu } from '../kernel-vcpu.js';
import { readGuestVirtual64 } from './guest-virtual.js';
import { systemReset } from './srst.js';
import { fail, ok, type SbiExtension, type SbiMachine, type SbiOutcome } from './types.js';

/** The harts a v0.1 mask pointer names, or the trap its read raises. */
function maskTargets(vcpu: KernelVcpu, machine: SbiMachine, pointer: bigint): KernelVcpu[] | SbiOutcome {
  if (pointer === 0n) return [...machine.kernelVcpus];
  const r = readGuestVirtual64(machine.ramRegions(), vcpu.hart.getCsr(CSR_SATP), vcpu.hart.getCsr(CSR_SSTATUS), pointer);
  if (!r.ok) return { kind: 'trap', cause: r.cause, tval: pointer };
  const targets: KernelVcpu[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if (!(r.value & (1n << bit))) continue;
    const t = machine.vcpuById(bit);
    if (t) targets.push(t);
  }
  return targets;
}

export const legacyExtension: SbiExtension = {
  name: 'V01',
  extIdx: 0,
  eidStart: BigInt(SBI.SBI_EXT_0_1_SET_TIMER),
  eidEnd: BigInt(SBI.SBI_EXT_0_1_SHUTDOWN),
  legacy: true,
  handle(vcpu, call, machine): SbiOutcome {
    switch (Number(call.eid)) {
      case SBI.SBI_EXT_0_1_CONSOLE_PUTCHAR:
      case SBI.SBI_EXT_0_1_CONSOLE_GETCHAR:
        return { kind: 'forward' };
      case SBI.SBI_EXT_0_1_SET_TIMER:
        vcpu.timer.nextEvent(call.args[0]);
        machine.wake(vcpu);
        return ok();
      case SBI.SBI_EXT_0_1_CLEAR_IPI:
        vcpu.hart.setPending(IRQ_S_SOFT, false);
        return ok();
      case SBI.SBI_EXT_0_1_SHUTDOWN:
        return systemReset(machine, KVM_SYSTEM_EVENT_SHUTDOWN, 0n);
      case SBI.SBI_EXT_0_1_SEND_IPI:
      case SBI.SBI_EXT_0_1_REMOTE_FENCE_I:
      case SBI.SBI_EXT_0_1_REMOTE_SFENCE_VMA:
      case SBI.SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID: {
        const targets = maskTargets(vcpu, machine, call.args[0]);
        if (!Array.isArray(targets)) return targets;
        for (const t of targets) {
          if (call.eid === BigInt(SBI.SBI_EXT_0_1_SEND_IPI)) {
            t.hart.setPending(IRQ_S_SOFT, true);
            machine.wake(t);
          } else if (call.eid === BigInt(SBI.SBI_EXT_0_1_REMOTE_FENCE_I)) {
            t.hart.flushCode();
          } else {
            t.hart.flushTlb();
          }
        }
        return ok();
      }
      default:
        return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    }
  },
};
