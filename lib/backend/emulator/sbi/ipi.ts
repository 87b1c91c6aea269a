/**
 * SBI IPI extension (SBI spec v2.0 §7): send_ipi(hart_mask, hart_mask_base) makes the S software
 * interrupt pending on each named hart. Like kvm_sbi_ext_ipi_handler (6.12) the result is
 * INVALID_PARAM when the mask names a hart that does not exist (the others still get their IPI).
 */
import * as SBI from '../../../abi/sbi.js';
import { IRQ_S_SOFT } from '../cpu/contract.js';
import { selectHarts } from './hart-mask.js';
import { fail, ok, type SbiExtension } from './types.js';

export const ipiExtension: SbiExtension = {
  name: 'IPI',
  extIdx: 2,
  eidStart: BigInt(SBI.SBI_EXT_IPI),
  eidEnd: BigInt(SBI.SBI_EXT_IPI),
  handle(_vcpu, call, machine) {
    if (call.fid !== BigInt(SBI.SBI_EXT_IPI_SEND_IPI)) return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    const [mask, base] = call.args;
    const sel = selectHarts(machine.kernelVcpus, mask, base);
    for (const target of sel.targets) {
      target.hart.setPending(IRQ_S_SOFT, true);
      machine.wake(target);
    }
    if (base !== 0xffff_ffff_ffff_ffffn && (mask ^ sel.matched) !== 0n) return fail(SBI.SBI_ERR_INVALID_PARAM);
    return ok();
  },
};
