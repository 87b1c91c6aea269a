/**
 * SBI Hart State Management (SBI spec v2.0 §9) as arch/riscv/kvm/vcpu_sbi_hsm.c (6.12) does it:
 *   - hart_start(hartid, start_addr, opaque): INVALID_PARAM for an unknown hart, ALREADY_AVAILABLE
 *     unless it is STOPPED; otherwise the target is fully reset, gets pc = start_addr,
 *     a0 = hartid, a1 = opaque and becomes RUNNABLE;
 *   - hart_stop(): the caller becomes STOPPED (FAILED if it already is);
 *   - hart_get_status(hartid): STOPPED, SUSPENDED (blocked in wfi) or STARTED;
 *   - hart_suspend(type, ...): default retentive = wfi; default non-retentive NOT_SUPPORTED;
 *     anything else INVALID_PARAM (the type is the low 32 bits of a0).
 */
import * as SBI from '../../../abi/sbi.js';
import { fail, ok, type SbiExtension } from './types.js';

export const hsmExtension: SbiExtension = {
  name: 'HSM',
  extIdx: 5,
  eidStart: BigInt(SBI.SBI_EXT_HSM),
  eidEnd: BigInt(SBI.SBI_EXT_HSM),
  handle(vcpu, call, machine) {
    const [a0, a1, a2] = call.args;
    switch (call.fid) {
      case BigInt(SBI.SBI_EXT_HSM_HART_START): {
        const target = machine.vcpuById(a0);
        if (!target) return fail(SBI.SBI_ERR_INVALID_PARAM);
        if (target.mpState !== 'stopped') return fail(SBI.SBI_ERR_ALREADY_AVAILABLE);
        target.resetForStart(a1, a2);
        target.mpState = 'runnable';
        machine.wake(target);
        return ok();
      }
      case BigInt(SBI.SBI_EXT_HSM_HART_STOP):
        if (vcpu.mpState === 'stopped') return fail(SBI.SBI_ERR_FAILED);
        vcpu.mpState = 'stopped';
        machine.wake(vcpu);
        return ok();
      case BigInt(SBI.SBI_EXT_HSM_HART_STATUS): {
        const target = machine.vcpuById(a0);
        if (!target) return fail(SBI.SBI_ERR_INVALID_PARAM);
        if (target.mpState === 'stopped') return ok(BigInt(SBI.SBI_HSM_STATE_STOPPED));
        if (target.inWfi) return ok(BigInt(SBI.SBI_HSM_STATE_SUSPENDED));
        return ok(BigInt(SBI.SBI_HSM_STATE_STARTED));
      }
      case BigInt(SBI.SBI_EXT_HSM_HART_SUSPEND): {
        const type = Number(BigInt.asUintN(32, a0));
        if (type === SBI.SBI_HSM_SUSPEND_RET_DEFAULT) {
          // kvm_riscv_vcpu_wfi: the call returns 0 once an interrupt is pending.
          if (!vcpu.hart.interruptPending()) vcpu.inWfi = true;
          return ok();
        }
        if (type === SBI.SBI_HSM_SUSPEND_NON_RET_DEFAULT) return fail(SBI.SBI_ERR_NOT_SUPPORTED);
        return fail(SBI.SBI_ERR_INVALID_PARAM);
      }
      default:
        return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    }
  },
};
