/**
 * ONE_REG on the software KVM, against the Linux 6.12 rules (kvm-riscv-abi.md §3): the register
 * list of an rv64imafdc_zicntr_zicsr_zifencei vCPU, ENOENT / EINVAL / EBUSY, config.isa and
 * ISA_EXT / SBI_EXT switching, FP registers, and the TypeScript-side argument checks.
 */
import { describe, expect, it } from 'vitest';
import {
  KVM_REG_RISCV_CORE, KVM_REG_RISCV_FP_D, KVM_REG_SIZE_U32, KVM_REG_SIZE_U64, REG_CONFIG_ISA, REG_PC,
  REG_SBI_EXT_DBCN, regId, regName, riscvRegId,
} from '../../lib/abi/regs.js';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { Vcpu } from '../../lib/backend/types.js';
import type { KvmError } from '../../lib/errors.js';
import { hasCrossTools } from './support/asm.js';
import { makeMachine, RAM_BASE, REPORT_EID } from './support/guest.js';

function freshVcpu(): Vcpu {
  return createEmulator().createVm().createVcpu(0);
}

function errCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as KvmError).code ?? (e as Error).name;
  }
  return 'ok';
}

const ISA_IMAFDC = (1n << 0n) | (1n << 2n) | (1n << 3n) | (1n << 5n) | (1n << 8n) | (1n << 12n);

describe('KVM_GET_REG_LIST', () => {
  it('lists what KVM 6.12 lists for this vCPU, and every listed register reads', () => {
    const v = freshVcpu();
    const list = v.getRegList();
    const names = list.map(regName);
    expect(list.length).toBe(5 + 33 + 11 + 4 + 33 + 33 + 9 + 9);
    expect(names.slice(0, 5)).toEqual(['config.isa', 'config.mvendorid', 'config.marchid', 'config.mimpid', 'config.satp_mode']);
    expect(names).toContain('csr.senvcfg');
    expect(names).toContain('fp_d.fcsr');
    expect(list).toContain(0x8020000006000020n); // fp_d.fcsr is U32
    expect(names.filter((n) => n.startsWith('isa_ext.'))).toEqual(
      ['A', 'C', 'D', 'F', 'I', 'M', 'ZICNTR', 'ZICSR', 'ZIFENCEI'].map((e) => `isa_ext.${e}`));
    expect(names.filter((n) => n.startsWith('sbi_ext.'))).toEqual(
      ['V01', 'TIME', 'IPI', 'RFENCE', 'SRST', 'HSM', 'EXPERIMENTAL', 'VENDOR', 'DBCN'].map((e) => `sbi_ext.${e}`));
    expect(names).not.toContain('config.zicbom_block_size');
    for (const id of list) expect(typeof v.getReg(id)).toBe('bigint');
  });
});

describe('core.mode', () => {
  it.skipIf(!hasCrossTools())('mode 0 enters the guest in U mode: its ecall traps to the guest (scause 8), not to SBI', async () => {
    const m = makeMachine(`
      j user
    handler:
      csrr a0, scause
      csrr a1, sstatus
      sbi ${REPORT_EID}, 0
    user:
      ecall
    `);
    const v = m.vcpus[0];
    v.setReg(regId('csr.stvec'), BigInt(RAM_BASE) + 4n);
    v.setReg(regId('core.mode'), 0n);
    expect(v.getReg(regId('core.mode'))).toBe(0n);
    const exit = await v.run();
    expect(exit).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID });
    if (exit.reason !== 'sbi') throw new Error('unreachable');
    expect(exit.args[0]).toBe(8n); // environment call from U-mode
    expect(exit.args[1] & 0x100n).toBe(0n); // sstatus.SPP = U
  });
});

describe('ONE_REG values and errors', () => {
  it('reads KVM reset values', () => {
    const v = freshVcpu();
    expect(v.getReg(REG_CONFIG_ISA)).toBe(ISA_IMAFDC);
    expect(v.getReg(regId('config.satp_mode'))).toBe(9n);
    expect(v.getReg(regId('core.mode'))).toBe(1n);
    expect(v.getReg(regId('csr.scounteren'))).toBe(7n);
    // sstatus = SPP | SPIE, FS = Initial because F/D are enabled (kvm_riscv_vcpu_fp_reset)
    expect(v.getReg(regId('csr.sstatus')) & 0x6122n).toBe(0x2120n);
    expect(v.getReg(regId('timer.compare'))).toBe(0xffff_ffff_ffff_ffffn);
    expect(v.getReg(regId('sbi_ext.multi_en.0'))).toBe(0x1bfn);
    expect(v.getReg(regId('sbi_ext.multi_dis.0'))).toBe(~0x1bfn & 0xffff_ffff_ffff_ffffn);
    expect(v.getReg(regId('isa_ext.multi_en.0'))).toBe(0x38006fn);
  });

  it('ENOENT for ids this vCPU does not have', () => {
    const v = freshVcpu();
    for (const name of ['config.zicbom_block_size', 'config.zicboz_block_size', 'sbi_ext.PMU', 'sbi_ext.STA', 'isa_ext.V',
      'isa_ext.ZBB', 'isa_ext.H', 'sbi_state.sta.shmem_lo']) {
      expect(errCode(() => v.getReg(regId(name))), name).toBe('ENOENT');
    }
    expect(errCode(() => v.getReg(riscvRegId(KVM_REG_RISCV_CORE, 0, 33)))).toBe('ENOENT');
    expect(errCode(() => v.getReg(riscvRegId(0x0f, 0, 0)))).toBe('ENOENT');
    expect(errCode(() => v.getReg(riscvRegId(0x09, 0, 0)))).toBe('ENOENT'); // no V
    expect(errCode(() => v.setReg(regId('sbi_ext.PMU'), 1n))).toBe('ENOENT');
  });

  it('EINVAL for a wrong size or a value KVM refuses', () => {
    const v = freshVcpu();
    expect(errCode(() => v.getReg(riscvRegId(KVM_REG_RISCV_CORE, 0, 0, KVM_REG_SIZE_U32)))).toBe('EINVAL');
    expect(errCode(() => v.getReg(riscvRegId(KVM_REG_RISCV_FP_D, 0, 32, KVM_REG_SIZE_U64)))).toBe('EINVAL');
    expect(errCode(() => v.getReg(riscvRegId(KVM_REG_RISCV_FP_D, 0, 3, KVM_REG_SIZE_U32)))).toBe('EINVAL');
    expect(errCode(() => v.setReg(regId('timer.frequency'), 1_000_000n))).toBe('EINVAL');
    expect(errCode(() => v.setReg(regId('timer.frequency'), 10_000_000n))).toBe('ok');
    expect(errCode(() => v.setReg(REG_SBI_EXT_DBCN, 2n))).toBe('EINVAL');
    expect(errCode(() => v.setReg(regId('isa_ext.A'), 0n))).toBe('EINVAL'); // A cannot be disabled
    expect(errCode(() => v.setReg(regId('config.satp_mode'), 8n))).toBe('EINVAL');
    expect(errCode(() => v.setReg(REG_CONFIG_ISA, 1n << 30n))).toBe('EINVAL'); // beyond single letters
    expect(errCode(() => v.getReg(regId('csr.smstateen.sstateen0')))).toBe('EINVAL'); // no host Smstateen
  });

  it('config.isa and ISA_EXT switch D/F off (and on) before the first run only', async () => {
    const v = freshVcpu();
    v.setReg(REG_CONFIG_ISA, 0n); // A, C, I, M cannot be cleared: only D and F go
    expect(v.getReg(REG_CONFIG_ISA)).toBe(ISA_IMAFDC & ~((1n << 3n) | (1n << 5n)));
    expect(v.getReg(regId('isa_ext.D'))).toBe(0n);
    expect(errCode(() => v.getReg(regId('fp_f.f0')))).toBe('ENOENT');
    expect(v.getRegList().length).toBe(137 - 66);
    expect(v.getReg(regId('csr.sstatus')) & 0x6000n).toBe(0n); // FS = Off
    v.setReg(regId('isa_ext.F'), 1n);
    expect(v.getReg(regId('fp_f.fcsr'))).toBe(0n);
    v.setReg(regId('isa_ext.multi_en.0'), 1n << 2n); // D back on
    expect(v.getReg(REG_CONFIG_ISA)).toBe(ISA_IMAFDC);
  });

  it('FP registers: fp_d is 64-bit, fp_f the NaN-boxed low word, fcsr is U32', () => {
    const v = freshVcpu();
    v.setReg(regId('fp_d.f1'), 0x4000_0000_0000_0000n);
    expect(v.getReg(regId('fp_d.f1'))).toBe(0x4000_0000_0000_0000n);
    v.setReg(regId('fp_f.f2'), 0x3f80_0000n);
    expect(v.getReg(regId('fp_d.f2'))).toBe(0xffff_ffff_3f80_0000n);
    expect(v.getReg(regId('fp_f.f2'))).toBe(0x3f80_0000n);
    v.setReg(regId('fp_d.fcsr'), 0x61n);
    expect(v.getReg(regId('fp_f.fcsr'))).toBe(0x61n);
  });

  it('EBUSY for config / ISA / SBI-extension changes after the first run; unchanged values and core regs stay writable', async () => {
    const v = freshVcpu();
    v.setReg(REG_SBI_EXT_DBCN, 1n);
    v.setReg(regId('config.mimpid'), 42n);
    v.stop();
    expect(await v.run()).toEqual({ reason: 'interrupted' }); // counts as having run
    expect(errCode(() => v.setReg(REG_SBI_EXT_DBCN, 0n))).toBe('EBUSY');
    expect(errCode(() => v.setReg(REG_SBI_EXT_DBCN, 1n))).toBe('EBUSY'); // SBI_EXT: any write
    expect(errCode(() => v.setReg(regId('config.mimpid'), 43n))).toBe('EBUSY');
    expect(errCode(() => v.setReg(regId('config.mimpid'), 42n))).toBe('ok');
    expect(errCode(() => v.setReg(REG_CONFIG_ISA, 0n))).toBe('EBUSY');
    expect(errCode(() => v.setReg(REG_CONFIG_ISA, ISA_IMAFDC))).toBe('ok');
    expect(errCode(() => v.setReg(regId('isa_ext.D'), 0n))).toBe('EBUSY');
    expect(errCode(() => v.setReg(REG_PC, 0x1234n))).toBe('ok');
    expect(v.getReg(REG_PC)).toBe(0x1234n);
    expect(errCode(() => v.getReg(regId('sbi_ext.DBCN')))).toBe('ok');
  });

  it('validates arguments before the "ioctl": TypeError / RangeError naming them', () => {
    const v = freshVcpu();
    expect(() => v.getReg(1 as never)).toThrow(TypeError);
    expect(() => v.setReg(REG_PC, 1 as never)).toThrow(/value/);
    expect(() => v.setReg(regId('fp_f.fcsr'), 1n << 32n)).toThrow(RangeError);
    expect(() => v.setReg(REG_PC, 1n << 64n)).toThrow(RangeError);
    v.setReg(REG_PC, -4n); // signed values are accepted as their bit pattern
    expect(v.getReg(REG_PC)).toBe(0xffff_ffff_ffff_fffcn);
  });
});
