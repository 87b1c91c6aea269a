// Golden constants: every number here was read from ../shared/docs/kvm-riscv-abi.md, which took
// them from Linux 6.12 headers compiled for riscv64. If lib/abi drifts from the kernel, these fail.
import { describe, expect, it } from 'vitest';
import * as K from '../../lib/abi/kvm.js';
import * as S from '../../lib/abi/sbi.js';
import * as R from '../../lib/abi/regs.js';

describe('ioctl request codes (kvm-riscv-abi.md §1.2)', () => {
  it.each([
    ['KVM_GET_API_VERSION', K.KVM_GET_API_VERSION, 0xae00],
    ['KVM_CREATE_VM', K.KVM_CREATE_VM, 0xae01],
    ['KVM_CHECK_EXTENSION', K.KVM_CHECK_EXTENSION, 0xae03],
    ['KVM_GET_VCPU_MMAP_SIZE', K.KVM_GET_VCPU_MMAP_SIZE, 0xae04],
    ['KVM_CREATE_VCPU', K.KVM_CREATE_VCPU, 0xae41],
    ['KVM_GET_DIRTY_LOG', K.KVM_GET_DIRTY_LOG, 0x4010ae42],
    ['KVM_SET_USER_MEMORY_REGION', K.KVM_SET_USER_MEMORY_REGION, 0x4020ae46],
    ['KVM_IRQ_LINE', K.KVM_IRQ_LINE, 0x4008ae61],
    ['KVM_CREATE_DEVICE', K.KVM_CREATE_DEVICE, 0xc00caee0],
    ['KVM_SET_DEVICE_ATTR', K.KVM_SET_DEVICE_ATTR, 0x4018aee1],
    ['KVM_RUN', K.KVM_RUN, 0xae80],
    ['KVM_INTERRUPT', K.KVM_INTERRUPT, 0x4004ae86],
    ['KVM_SET_SIGNAL_MASK', K.KVM_SET_SIGNAL_MASK, 0x4004ae8b],
    ['KVM_GET_MP_STATE', K.KVM_GET_MP_STATE, 0x8004ae98],
    ['KVM_SET_MP_STATE', K.KVM_SET_MP_STATE, 0x4004ae99],
    ['KVM_GET_ONE_REG', K.KVM_GET_ONE_REG, 0x4010aeab],
    ['KVM_SET_ONE_REG', K.KVM_SET_ONE_REG, 0x4010aeac],
    ['KVM_GET_REG_LIST', K.KVM_GET_REG_LIST, 0xc008aeb0],
  ])('%s = %i', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('kvm_run layout (§2.1, §2.3)', () => {
  it('header and union offsets', () => {
    expect(K.KVM_RUN_SIZE).toBe(2352);
    expect(K.KVM_RUN_OFF.immediate_exit).toBe(1);
    expect(K.KVM_RUN_OFF.exit_reason).toBe(8);
    expect(K.KVM_RUN_OFF.exit_union).toBe(32);
    expect(K.KVM_RUN_OFF.mmio_data).toBe(40);
    expect(K.KVM_RUN_OFF.mmio_len).toBe(48);
    expect(K.KVM_RUN_OFF.mmio_is_write).toBe(52);
    expect(K.KVM_RUN_OFF.system_event_ndata).toBe(36);
    expect(K.KVM_RUN_OFF.system_event_data).toBe(40);
    expect(K.KVM_RUN_OFF.riscv_sbi_args).toBe(48);
    expect(K.KVM_RUN_OFF.riscv_sbi_ret).toBe(96);
    expect(K.KVM_RUN_OFF.riscv_csr_ret_value).toBe(56);
  });
  it('exit reasons and system-event types', () => {
    expect([K.KVM_EXIT_MMIO, K.KVM_EXIT_FAIL_ENTRY, K.KVM_EXIT_INTR, K.KVM_EXIT_SYSTEM_EVENT, K.KVM_EXIT_RISCV_SBI, K.KVM_EXIT_RISCV_CSR])
      .toEqual([6, 9, 10, 24, 35, 36]);
    expect([K.KVM_SYSTEM_EVENT_SHUTDOWN, K.KVM_SYSTEM_EVENT_RESET, K.KVM_SYSTEM_EVENT_CRASH]).toEqual([1, 2, 3]);
    expect(K.KVM_MP_STATE_STOPPED).toBe(5);
    expect(K.KVM_INTERRUPT_SET).toBe(0xffffffff);
  });
});

describe('ONE_REG ids (§3)', () => {
  it.each([
    ['core.pc', 0x8030000002000000n],
    ['core.a0', 0x803000000200000an],
    ['core.t6', 0x803000000200001fn],
    ['core.mode', 0x8030000002000020n],
    ['config.isa', 0x8030000001000000n],
    ['config.satp_mode', 0x8030000001000006n],
    ['csr.sstatus', 0x8030000003000000n],
    ['csr.senvcfg', 0x803000000300000an],
    ['csr.aia.siselect', 0x8030000003010000n],
    ['timer.frequency', 0x8030000004000000n],
    ['timer.state', 0x8030000004000003n],
    ['fp_f.f0', 0x8020000005000000n],
    ['fp_d.f31', 0x803000000600001fn],
    ['fp_d.fcsr', 0x8020000006000020n],
    ['isa_ext.ZAWRS', 0x803000000700003dn],
    ['sbi_ext.DBCN', 0x8030000008000009n],
    ['sbi_ext.multi_dis.0', 0x8030000008020000n],
  ])('%s', (name, id) => {
    expect(R.regId(name)).toBe(id);
    expect(R.regName(id)).toBe(name);
  });
  it('sizes and fields decode', () => {
    expect(R.regSizeBytes(R.regId('fp_d.fcsr'))).toBe(4);
    expect(R.regSizeBytes(R.REG_PC)).toBe(8);
    expect(R.regType(R.REG_SBI_EXT_DBCN)).toBe(R.KVM_REG_RISCV_SBI_EXT);
    expect(R.regIndex(R.regId('isa_ext.ZAWRS'))).toBe(61);
    expect(R.ISA_EXTS.length).toBe(R.KVM_RISCV_ISA_EXT_MAX);
    expect(R.SBI_EXTS.length).toBe(R.KVM_RISCV_SBI_EXT_MAX);
  });
  it('rejects unknown names and x0', () => {
    expect(() => R.regId('core.x0')).toThrow(RangeError);
    expect(() => R.coreXReg(0)).toThrow(/x0/);
    expect(R.coreXReg(10)).toBe(R.REG_A0);
  });
});

describe('SBI ids and errors (§4.1)', () => {
  it('extension ids are the ASCII of their names', () => {
    const ascii = (s: string) => [...s].reduce((a, c) => a * 256 + c.charCodeAt(0), 0);
    expect(S.SBI_EXT_TIME).toBe(ascii('TIME'));
    expect(S.SBI_EXT_IPI).toBe(ascii('sPI'));
    expect(S.SBI_EXT_RFENCE).toBe(ascii('RFNC'));
    expect(S.SBI_EXT_HSM).toBe(ascii('HSM'));
    expect(S.SBI_EXT_SRST).toBe(ascii('SRST'));
    expect(S.SBI_EXT_DBCN).toBe(ascii('DBCN'));
    expect(S.SBI_EXT_SUSP).toBe(ascii('SUSP'));
  });
  it('error codes and u64 form', () => {
    expect([S.SBI_ERR_FAILED, S.SBI_ERR_NOT_SUPPORTED, S.SBI_ERR_INVALID_PARAM, S.SBI_ERR_ALREADY_AVAILABLE, S.SBI_ERR_NO_SHMEM])
      .toEqual([-1, -2, -3, -6, -9]);
    expect(S.sbiU64(S.SBI_ERR_NOT_SUPPORTED)).toBe(0xfffffffffffffffen);
    expect(S.isForwardedRange(0x08000000)).toBe(true);
    expect(S.isForwardedRange(0x09ffffff)).toBe(true);
    expect(S.isForwardedRange(0x0a000000)).toBe(false);
    expect(S.isForwardedRange(S.SBI_EXT_DBCN)).toBe(false);
  });
});
