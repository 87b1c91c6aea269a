/**
 * SBI Timer extension (SBI spec v2.0 §6): set_timer(stime_value) programs the calling hart's timer;
 * the S timer interrupt is cleared now and becomes pending when guest time reaches the value
 * (arch/riscv/kvm/vcpu_sbi_replace.c kvm_sbi_ext_time_handler → kvm_riscv_vcpu_timer_next_event).
 */
import * as SBI from '../../../abi/sbi.js';
import { fail, ok, type SbiExtension } from './types.js';

export const timeExtension: SbiExtension = {
  name: 'TIME',
  extIdx: 1,
  eidStart: BigInt(SBI.SBI_EXT_TIME),
  eidEnd: BigInt(SBI.SBI_EXT_TIME),
  handle(vcpu, call, machine) {
    if (call.fid !== BigInt(SBI.SBI_EXT_TIME_SET_TIMER)) return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    vcpu.timer.nextEvent(call.args[0]);
    machine.wake(vcpu);
    return ok();
  },
};
