/**
 * The SBI calls KVM 6.12 hands to user space as KVM_EXIT_RISCV_SBI (kvm-riscv-abi.md §4.3):
 *   - DBCN (SBI spec v2.0 §12), once user space enabled it: console_write, console_read and
 *     console_write_byte are forwarded; any other function is NOT_SUPPORTED in the kernel;
 *   - the experimental (0x08000000-0x08FFFFFF) and vendor (0x09000000-0x09FFFFFF) EID ranges,
 *     every function (kvm_sbi_ext_forward_handler).
 */
import * as SBI from '../../../abi/sbi.js';
import { fail, type SbiExtension } from './types.js';

export const dbcnExtension: SbiExtension = {
  name: 'DBCN',
  extIdx: 9,
  eidStart: BigInt(SBI.SBI_EXT_DBCN),
  eidEnd: BigInt(SBI.SBI_EXT_DBCN),
  handle(_vcpu, call) {
    if (call.fid <= BigInt(SBI.SBI_EXT_DBCN_CONSOLE_WRITE_BYTE)) return { kind: 'forward' };
    return fail(SBI.SBI_ERR_NOT_SUPPORTED);
  },
};

export const experimentalExtension: SbiExtension = {
  name: 'EXPERIMENTAL',
  extIdx: 7,
  eidStart: BigInt(SBI.SBI_EXT_EXPERIMENTAL_START),
  eidEnd: BigInt(SBI.SBI_EXT_EXPERIMENTAL_END),
  handle: () => ({ kind: 'forward' }),
};

export const vendorExtension: SbiExtension = {
  name: 'VENDOR',
  extIdx: 8,
  eidStart: BigInt(SBI.SBI_EXT_VENDOR_START),
  eidEnd: BigInt(SBI.SBI_EXT_VENDOR_END),
  handle: () => ({ kind: 'forward' }),
};
