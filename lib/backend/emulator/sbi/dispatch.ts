/**
 * The SBI dispatcher of the software KVM: kvm_riscv_vcpu_sbi_ecall (arch/riscv/kvm/vcpu_sbi.c, 6.12;
 * kvm-riscv-abi.md §4.2) over a registry of extensions.
 *   1. Find the extension whose EID range holds a7 and whose status is enabled (BASE always is).
 *   2. None → a0 = NOT_SUPPORTED, a1 = 0, pc += 4, no exit.
 *   3. Otherwise its outcome: a return (a0, a1 unless legacy, pc += 4), a forward (KVM_EXIT_RISCV_SBI
 *      with ret pre-filled {-2, 0}; pc stays until the completion), a system event (pc stays) or a
 *      trap redirected into the guest.
 */
import { sbiU64, SBI_ERR_NOT_SUPPORTED } from '../../../abi/sbi.js';
import type { SystemEventType, VcpuExit } from '../../types.js';
import type { KernelVcpu } from '../kernel-vcpu.js';
import { baseExtension } from './base.js';
import { timeExtension } from './time.js';
import { ipiExtension } from './ipi.js';
import { rfenceExtension } from './rfence.js';
import { srstExtension } from './srst.js';
import { hsmExtension } from './hsm.js';
import { dbcnExtension, experimentalExtension, vendorExtension } from './forwarded.js';
import { legacyExtension } from './legacy.js';
import type { SbiCall, SbiExtension, SbiMachine } from './types.js';

const SYSTEM_EVENT_NAMES: Record<number, SystemEventType> = {
  1: 'shutdown', 2: 'reset', 3: 'crash', 4: 'wakeup', 5: 'suspend',
};

export class SbiDispatcher {
  readonly #extensions: SbiExtension[];

  /** The registry in KVM's table order; the v0.1 entry only exists with CONFIG_RISCV_SBI_V01. */
  constructor(sbiV01: boolean) {
    const base = baseExtension((vcpu, eid, machine) => this.probe(vcpu, eid, machine));
    this.#extensions = [
      ...(sbiV01 ? [legacyExtension] : []),
      base, timeExtension, ipiExtension, rfenceExtension, srstExtension, hsmExtension,
      dbcnExtension, experimentalExtension, vendorExtension,
    ];
  }

  /** kvm_vcpu_sbi_find_ext: the first range match, if it is enabled for this vCPU. */
  find(vcpu: KernelVcpu, eid: bigint): SbiExtension | undefined {
    for (const ext of this.#extensions) {
      if (eid < ext.eidStart || eid > ext.eidEnd) continue;
      if (ext.extIdx === null || vcpu.features.sbiStatus(ext.extIdx) === 'enabled') return ext;
      return undefined;
    }
    return undefined;
  }

  /** sbi_probe_extension answer for a non-forwarded EID. */
  probe(vcpu: KernelVcpu, eid: bigint, machine: SbiMachine): bigint {
    const ext = this.find(vcpu, eid);
    if (!ext) return 0n;
    return ext.probe ? ext.probe(vcpu, machine) : 1n;
  }

  /** Handles the ecall the hart stopped on. Returns the exit for user space, or null to continue. */
  handleEcall(vcpu: KernelVcpu, machine: SbiMachine): VcpuExit | null {
    const hart = vcpu.hart;
    const call: SbiCall = {
      eid: hart.getX(17),
      fid: hart.getX(16),
      args: [hart.getX(10), hart.getX(11), hart.getX(12), hart.getX(13), hart.getX(14), hart.getX(15)],
    };
    machine.clock.retireOne();
    const ext = this.find(vcpu, call.eid);
    if (!ext) {
      hart.setX(10, sbiU64(SBI_ERR_NOT_SUPPORTED));
      hart.setX(11, 0n);
      hart.pc = BigInt.asUintN(64, hart.pc + 4n);
      return null;
    }
    const outcome = ext.handle(vcpu, call, machine);
    switch (outcome.kind) {
      case 'return':
        hart.setX(10, sbiU64(outcome.error));
        if (!ext.legacy) hart.setX(11, BigInt.asUintN(64, outcome.value));
        hart.pc = BigInt.asUintN(64, hart.pc + 4n);
        return null;
      case 'forward': {
        const ret: [bigint, bigint] = [sbiU64(SBI_ERR_NOT_SUPPORTED), 0n];
        vcpu.completion = { kind: 'sbi', ret };
        return { reason: 'sbi', extensionId: Number(call.eid), functionId: call.fid, args: call.args, ret: [ret[0], ret[1]] };
      }
      case 'system-event':
        return {
          reason: 'system_event',
          type: SYSTEM_EVENT_NAMES[outcome.type] ?? 'unknown',
          typeCode: outcome.type,
          data: [outcome.reason],
        };
      case 'trap':
        vcpu.redirectTrap(outcome.cause, outcome.tval);
        return null;
    }
  }
}
