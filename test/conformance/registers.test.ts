/**
 * ONE_REG (kvm-riscv-abi.md §3): round trips, the register list, the error conventions of 6.12
 * (unknown id → ENOENT; changing an SBI-extension register after the first run → EBUSY) and the
 * API's own range check (a value wider than the register → RangeError). MP state (§1.7).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { KvmError } from '../../lib/errors.js';
import {
  CORE_REGS, CSR_REGS, KVM_REG_RISCV_CORE, KVM_REG_SIZE_U32, REG, REG_A0, REG_MODE, REG_SBI_EXT_DBCN, TIMER_REGS,
  regId, regName, regSizeBytes, riscvRegId,
} from '../../lib/abi/regs.js';
import { describeBackends } from '../support/backends.js';
import { loadProgram, runUntil, type LoadedProgram } from '../support/guest.js';

/** A distinct 64-bit pattern per register, with high bits set and bit 0 clear (pc is 2-aligned). */
function pattern(i: number): bigint {
  return (0x8000000000000000n | (BigInt(i + 1) * 0x0101010101010100n)) & 0xfffffffffffffffen;
}

describeBackends((backend) => {
  let hv: Hypervisor;
  let p: LoadedProgram;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());
  beforeEach(() => { p = loadProgram(hv, 'base', { vcpus: 2 }); });
  afterEach(() => p.close());

  it('every core register (pc, x1..x31) round-trips a full 64-bit value', () => {
    const names = CORE_REGS.filter((n) => n !== 'mode');
    names.forEach((n, i) => p.vcpu.setReg(regId(`core.${n}`), pattern(i)));
    const back = names.map((n) => p.vcpu.getReg(regId(`core.${n}`)));
    expect(back).toEqual(names.map((_, i) => pattern(i)));
    // Writes to one register leave the others alone (checked above by distinct patterns) and
    // do not leak into the other vCPU.
    expect(p.vcpus[1]!.getReg(REG_A0)).toBe(0n);
  });

  it('core.mode round-trips S (1) and U (0)', () => {
    expect(p.vcpu.getReg(REG_MODE)).toBe(1n);
    p.vcpu.setReg(REG_MODE, 0n);
    expect(p.vcpu.getReg(REG_MODE)).toBe(0n);
    p.vcpu.setReg(REG_MODE, 1n);
    expect(p.vcpu.getReg(REG_MODE)).toBe(1n);
  });

  it('plain supervisor CSRs round-trip (sscratch, sepc, stvec)', () => {
    for (const [name, value] of [['csr.sscratch', 0xfedcba9876543210n], ['csr.sepc', 0x80201234n], ['csr.stvec', 0x80204000n]] as const) {
      p.vcpu.setReg(regId(name), value);
      expect(p.vcpu.getReg(regId(name)), name).toBe(value);
    }
  });

  it('the register list holds every core, general CSR and timer id, and every listed id can be read', () => {
    const list = p.vcpu.getRegList();
    const have = new Set(list);
    const needed = [
      ...CORE_REGS.map((n) => `core.${n}`),
      ...CSR_REGS.map((n) => `csr.${n}`),
      ...TIMER_REGS.map((n) => `timer.${n}`),
      'config.isa',
    ];
    expect(needed.filter((n) => !have.has(regId(n)))).toEqual([]);
    expect(have.size).toBe(list.length); // no duplicates
    const unreadable: string[] = [];
    for (const id of list) {
      try {
        const v = p.vcpu.getReg(id);
        if (v < 0n || v >= 1n << BigInt(8 * regSizeBytes(id))) unreadable.push(`${regName(id)} = ${v}`);
      } catch (e) {
        unreadable.push(`${regName(id)}: ${(e as Error).message}`);
      }
    }
    expect(unreadable).toEqual([]);
  });

  it('getReg/setReg of an unknown id fail with KvmError ENOENT', () => {
    const unknownCore = riscvRegId(KVM_REG_RISCV_CORE, 0, 0x100);
    const unknownType = riscvRegId(0x7f, 0, 0);
    for (const id of [unknownCore, unknownType]) {
      expect(() => p.vcpu.getReg(id)).toThrow(KvmError);
      try { p.vcpu.getReg(id); } catch (e) { expect(e).toMatchObject({ code: 'ENOENT', errno: 2 }); }
      expect(() => p.vcpu.setReg(id, 0n)).toThrow(KvmError);
    }
  });

  it('setReg with a value wider than the register throws RangeError and changes nothing', () => {
    p.vcpu.setReg(REG_A0, 7n);
    expect(() => p.vcpu.setReg(REG_A0, 1n << 64n)).toThrow(RangeError);
    expect(p.vcpu.getReg(REG_A0)).toBe(7n);
    // A 32-bit register, when this vCPU has one (fp_f/fcsr need F/D).
    const u32 = p.vcpu.getRegList().find((id) => (id & 0x00f0000000000000n) === KVM_REG_SIZE_U32);
    if (u32 !== undefined) expect(() => p.vcpu.setReg(u32, 1n << 32n)).toThrow(RangeError);
  });

  it('MP state: vCPU 0 starts runnable, others stopped; both states can be set', () => {
    expect(p.vcpus.map((v) => v.getMpState())).toEqual(['runnable', 'stopped']);
    p.vcpu.setMpState('stopped');
    expect(p.vcpu.getMpState()).toBe('stopped');
    p.vcpu.setMpState('runnable');
    p.vcpus[1]!.setMpState('runnable');
    expect(p.vcpus.map((v) => v.getMpState())).toEqual(['runnable', 'runnable']);
  });

  it('SBI extension registers: DBCN reads 0 by default, can be enabled before the first run, EBUSY after', async () => {
    expect(p.vcpu.getReg(REG_SBI_EXT_DBCN)).toBe(0n);
    p.vcpu.setReg(REG_SBI_EXT_DBCN, 1n);
    expect(p.vcpu.getReg(REG_SBI_EXT_DBCN)).toBe(1n);
    p.vcpu.setReg(REG_SBI_EXT_DBCN, 0n);
    await runUntil(p.vcpu);
    let err: unknown;
    try { p.vcpu.setReg(REG_SBI_EXT_DBCN, 1n); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(KvmError);
    expect(err).toMatchObject({ code: 'EBUSY' });
    expect(p.vcpu.getReg(REG_SBI_EXT_DBCN)).toBe(0n);
  });

  it('REG names every id the list reports for core/csr/timer (ABI tables agree with the backend)', () => {
    const known = new Set(REG.values());
    const list = p.vcpu.getRegList();
    const coreCsrTimer = list.filter((id) => { const t = Number((id >> 24n) & 0xffn); return t >= 2 && t <= 4; });
    expect(coreCsrTimer.filter((id) => !known.has(id)).map(regName)).toEqual([]);
  });
});
