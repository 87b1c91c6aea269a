/**
 * SBI RFENCE extension (SBI spec v2.0 §8): remote fence.i and sfence.vma(_asid) on the named harts
 * (functions 0-2). The hypervisor-fence functions 3-6 are NOT_SUPPORTED, as in KVM 6.12, which has
 * no nested virtualization. Harts the mask names that do not exist are skipped (no error), as
 * make_xfence_request does. The emulator drops every cached translation instead of a range/ASID.
 */
import * as SBI from '../../../abi/sbi.js';
import { selectHarts } from './hart-mask.js';
import { fail, ok, type SbiExtension } from './types.js';

export const rfenceExtension: SbiExtension = {
  name: 'RFENCE',
  extIdx: 3,
  eidStart: BigInt(SBI.SBI_EXT_RFENCE),
  eidEnd: BigInt(SBI.SBI_EXT_RFENCE),
  handle(_vcpu, call, machine) {
    const fid = call.fid;
    if (fid > BigInt(SBI.SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID)) return fail(SBI.SBI_ERR_NOT_SUPPORTED);
    const { targets } = selectHarts(machine.kernelVcpus, call.args[0], call.args[1]);
    for (const t of targets) {
      if (fid === BigInt(SBI.SBI_EXT_RFENCE_REMOTE_FENCE_I)) t.hart.flushCode();
      else t.hart.flushTlb();
    }
    return ok();
  },
};
