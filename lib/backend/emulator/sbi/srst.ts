/**
 * SBI System Reset extension (SBI spec v2.0 §10): system_reset(type, reason). Shutdown becomes
 * KVM_EXIT_SYSTEM_EVENT SHUTDOWN, cold and warm reboot become RESET, data[0] = reason; before the
 * exit every vCPU of the VM is made STOPPED (kvm_riscv_vcpu_sbi_system_reset). Any other type is
 * NOT_SUPPORTED in the kernel. type and reason are 32-bit arguments.
 */
import * as SBI from '../../../abi/sbi.js';
import { KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN } from '../../../abi/kvm.js';
import { fail, type SbiExtension, type SbiMachine, type SbiOutcome } from './types.js';

/** Stops every vCPU and describes the exit (shared with legacy shutdown). */
export function systemReset(machine: SbiMachine, type: number, reason: bigint): SbiOutcome {
  for (const v of machine.kernelVcpus) {
    v.mpState = 'stopped';
    machine.wake(v);
  }
  return { kind: 'system-event', type, reason };
}

export const srstExtension: SbiExtension = {
  name: 'SRST',
  extIdx: 4,
  eidStart: BigInt(SBI.SBI_EXT_SRST),
  eidEnd: BigInt(SBI.SBI_EXT_SRST),
  handle(_vcpu, call, machine) {
    if (call.fid !== BigInt(SBI.SBI_EXT_SRST_RESET)) return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    const type = Number(BigInt.asUintN(32, call.args[0]));
    const reason = BigInt.asUintN(32, call.args[1]);
    switch (type) {
      case SBI.SBI_SRST_RESET_TYPE_SHUTDOWN:
        return systemReset(machine, KVM_SYSTEM_EVENT_SHUTDOWN, reason);
      case SBI.SBI_SRST_RESET_TYPE_COLD_REBOOT:
      case SBI.SBI_SRST_RESET_TYPE_WARM_REBOOT:
        return systemReset(machine, KVM_SYSTEM_EVENT_RESET, reason);
      default:
        return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    }
  },
};
