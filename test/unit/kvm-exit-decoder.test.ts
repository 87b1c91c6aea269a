import { describe, expect, it } from 'vitest';
import { KVM_RUN_OFF as OFF } from '../../lib/abi/kvm.js';
import { decodeExit, systemEventName, writeCsrReturn, writeMmioLoad, writeSbiReturn } from '../../lib/backend/kvm/exit-decoder.js';

function page(reason: number): DataView {
  const v = new DataView(new ArrayBuffer(2352));
  v.setUint32(OFF.exit_reason, reason, true);
  return v;
}

describe('decodeExit (struct kvm_run, riscv64)', () => {
  it('decodes an MMIO store with its little-endian data', () => {
    const v = page(6);
    v.setBigUint64(OFF.mmio_phys_addr, 0x1000_0000n, true);
    v.setUint32(OFF.mmio_data, 0xdeadbeef, true);
    v.setUint32(OFF.mmio_len, 4, true);
    v.setUint8(OFF.mmio_is_write, 1);
    const e = decodeExit(v);
    expect(e).toEqual({ reason: 'mmio', address: 0x1000_0000n, length: 4, isWrite: true, data: new Uint8Array([0xef, 0xbe, 0xad, 0xde]) });
  });

  it('gives zero data for an MMIO load and rejects impossible lengths as unsupported', () => {
    const v = page(6);
    v.setUint32(OFF.mmio_data, 0x55555555, true);
    v.setUint32(OFF.mmio_len, 2, true);
    const e = decodeExit(v);
    expect(e.reason === 'mmio' && [...e.data]).toEqual([0, 0]);
    v.setUint32(OFF.mmio_len, 3, true);
    expect(decodeExit(v)).toEqual({ reason: 'unsupported', exitReason: 6 });
  });

  it('decodes an SBI call with the pre-filled return values', () => {
    const v = page(35);
    v.setBigUint64(OFF.riscv_sbi_extension_id, 0x0800_0000n, true);
    v.setBigUint64(OFF.riscv_sbi_function_id, 0xffff_ffff_ffff_fffen, true);
    for (let i = 0; i < 6; i++) v.setBigUint64(OFF.riscv_sbi_args + 8 * i, BigInt(100 + i), true);
    v.setBigUint64(OFF.riscv_sbi_ret, BigInt.asUintN(64, -2n), true);
    const e = decodeExit(v);
    expect(e).toEqual({
      reason: 'sbi',
      extensionId: 0x0800_0000,
      functionId: 0xffff_ffff_ffff_fffen,
      args: [100n, 101n, 102n, 103n, 104n, 105n],
      ret: [0xffff_ffff_ffff_fffen, 0n],
    });
  });

  it('names system events and clamps ndata to the 16 slots of the struct', () => {
    const v = page(24);
    v.setUint32(OFF.system_event_type, 1, true);
    v.setUint32(OFF.system_event_ndata, 1, true);
    v.setBigUint64(OFF.system_event_data, 1n, true);
    expect(decodeExit(v)).toEqual({ reason: 'system_event', type: 'shutdown', typeCode: 1, data: [1n] });
    v.setUint32(OFF.system_event_type, 2, true);
    v.setUint32(OFF.system_event_ndata, 0xffff_ffff, true);
    const e = decodeExit(v);
    expect(e.reason === 'system_event' && e.type).toBe('reset');
    expect(e.reason === 'system_event' && e.data.length).toBe(16);
    expect(systemEventName(99)).toBe('unknown');
    expect([3, 4, 5].map(systemEventName)).toEqual(['crash', 'wakeup', 'suspend']);
  });

  it('decodes CSR, internal error, fail entry, debug, INTR and unknown reasons', () => {
    const csr = page(36);
    csr.setBigUint64(OFF.riscv_csr_csr_num, 0x15n, true);
    csr.setBigUint64(OFF.riscv_csr_new_value, 0xffn, true);
    csr.setBigUint64(OFF.riscv_csr_write_mask, 0xf0n, true);
    expect(decodeExit(csr)).toEqual({ reason: 'csr', csrNum: 0x15, newValue: 0xffn, writeMask: 0xf0n });

    const ie = page(17);
    ie.setUint32(OFF.internal_suberror, 1, true);
    ie.setUint32(OFF.internal_ndata, 2, true);
    ie.setBigUint64(OFF.internal_data + 8, 7n, true);
    expect(decodeExit(ie)).toEqual({ reason: 'internal_error', suberror: 1, data: [0n, 7n] });

    const fe = page(9);
    fe.setBigUint64(OFF.fail_entry_reason, 0x600n, true);
    fe.setUint32(OFF.fail_entry_cpu, 3, true);
    expect(decodeExit(fe)).toEqual({ reason: 'fail_entry', hardwareEntryFailureReason: 0x600n, cpu: 3 });

    expect(decodeExit(page(4))).toEqual({ reason: 'debug' });
    expect(decodeExit(page(10))).toEqual({ reason: 'interrupted' });
    expect(decodeExit(page(2))).toEqual({ reason: 'unsupported', exitReason: 2 });
    expect(decodeExit(page(0))).toEqual({ reason: 'unsupported', exitReason: 0 });
  });
});

describe('completions written back into kvm_run', () => {
  it('SBI ret[0..1] as u64 two’s complement', () => {
    const v = page(35);
    writeSbiReturn(v, -3n, 42n);
    expect(v.getBigInt64(OFF.riscv_sbi_ret, true)).toBe(-3n);
    expect(v.getBigUint64(OFF.riscv_sbi_ret + 8, true)).toBe(42n);
  });

  it('MMIO load data truncated to the access length, rest zeroed', () => {
    const v = page(6);
    v.setBigUint64(OFF.mmio_data, 0xffff_ffff_ffff_ffffn, true);
    writeMmioLoad(v, 2, 0x1234_5678n);
    expect(v.getBigUint64(OFF.mmio_data, true)).toBe(0x5678n);
    writeMmioLoad(v, 8, -1n);
    expect(v.getBigUint64(OFF.mmio_data, true)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('CSR ret_value', () => {
    const v = page(36);
    writeCsrReturn(v, 0xabcn);
    expect(v.getBigUint64(OFF.riscv_csr_ret_value, true)).toBe(0xabcn);
    expect(v.getBigUint64(OFF.riscv_csr_write_mask, true)).toBe(0n);
  });
});
