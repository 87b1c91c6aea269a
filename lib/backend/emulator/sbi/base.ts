/**
 * SBI Base extension (SBI spec v2.0 §4), as arch/riscv/kvm/vcpu_sbi_base.c (6.12) answers it:
 * spec version 2.0, implementation id 3 (KVM), implementation version = LINUX_VERSION_CODE of the
 * kernel the emulator mirrors (6.12.117 → 0x060C75), probe from the extension registry — except a
 * probe of an experimental or vendor EID, which KVM forwards to user space.
 */
import * as SBI from '../../../abi/sbi.js';
import type { KernelVcpu } from '../kernel-vcpu.js';
import { fail, ok, type SbiExtension, type SbiMachine, type SbiOutcome } from './types.js';

export const KVM_SBI_IMPL_VERSION = 0x060c75n;

/** The probe answer for a non-forwarded EID; the registry supplies it (it knows every extension). */
export type ProbeFn = (vcpu: KernelVcpu, eid: bigint, machine: SbiMachine) => bigint;

export function baseExtension(probe: ProbeFn): SbiExtension {
  return {
    name: 'BASE',
    extIdx: null,
    eidStart: BigInt(SBI.SBI_EXT_BASE),
    eidEnd: BigInt(SBI.SBI_EXT_BASE),
    handle(vcpu, call, machine): SbiOutcome {
      switch (call.fid) {
        case BigInt(SBI.SBI_EXT_BASE_GET_SPEC_VERSION):
          return ok(BigInt(SBI.SBI_SPEC_VERSION_2_0));
        case BigInt(SBI.SBI_EXT_BASE_GET_IMP_ID):
          return ok(BigInt(SBI.SBI_IMPL_ID_KVM));
        case BigInt(SBI.SBI_EXT_BASE_GET_IMP_VERSION):
          return ok(KVM_SBI_IMPL_VERSION);
        case BigInt(SBI.SBI_EXT_BASE_PROBE_EXT): {
          const eid = call.args[0];
          if (eid <= 0xffff_ffffn && SBI.isForwardedRange(Number(eid))) return { kind: 'forward' };
          return ok(probe(vcpu, eid, machine));
        }
        case BigInt(SBI.SBI_EXT_BASE_GET_MVENDORID):
          return ok(vcpu.features.mvendorid);
        case BigInt(SBI.SBI_EXT_BASE_GET_MARCHID):
          return ok(vcpu.features.marchid);
        case BigInt(SBI.SBI_EXT_BASE_GET_MIMPID):
          return ok(vcpu.features.mimpid);
        default:
          return fail(SBI.SBI_ERR_NOT_SUPPORTED);
      }
    },
  };
}
