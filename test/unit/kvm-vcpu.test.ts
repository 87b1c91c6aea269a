import { describe, expect, it } from 'vitest';
import { KVM_INTERRUPT_SET, KVM_INTERRUPT_UNSET, KVM_RUN_OFF as OFF } from '../../lib/abi/kvm.js';
import { regId } from '../../lib/abi/regs.js';
import { KvmVcpu } from '../../lib/backend/kvm/vcpu.js';
import { fromNativeError } from '../../lib/backend/kvm/native-errors.js';
import { KvmError, KvmStateError } from '../../lib/errors.js';
import { FakeVcpu, errnoError } from './kvm-fake-native.js';

const PC = regId('core.pc');
const FCSR = regId('fp_d.fcsr'); // a U32 register

function make() {
  const native = new FakeVcpu(0);
  native.regs.set(PC, new Uint8Array(8));
  native.regs.set(FCSR, new Uint8Array(4));
  const vcpu = new KvmVcpu(native, 0);
  return { native, vcpu };
}

function sbiExit(view: DataView): number {
  view.setUint32(OFF.exit_reason, 35, true);
  view.setBigUint64(OFF.riscv_sbi_extension_id, 0x0800_0000n, true);
  view.setBigUint64(OFF.riscv_sbi_ret, BigInt.asUintN(64, -2n), true);
  view.setBigUint64(OFF.riscv_sbi_ret + 8, 0n, true);
  return 0;
}

function mmioLoad(view: DataView): number {
  view.setUint32(OFF.exit_reason, 6, true);
  view.setUint32(OFF.mmio_len, 4, true);
  view.setUint8(OFF.mmio_is_write, 0);
  return 0;
}

async function expectState(p: Promise<unknown> | (() => unknown), code: string) {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KvmStateError);
    expect((e as KvmStateError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('KvmVcpu registers', () => {
  it('reads and writes little-endian register bytes of the right width', () => {
    const { native, vcpu } = make();
    vcpu.setReg(PC, 0x8020_0000n);
    expect([...native.regs.get(PC)!]).toEqual([0, 0, 0x20, 0x80, 0, 0, 0, 0]);
    expect(vcpu.getReg(PC)).toBe(0x8020_0000n);
    vcpu.setReg(PC, -1n);
    expect(vcpu.getReg(PC)).toBe(0xffff_ffff_ffff_ffffn);
    vcpu.setReg(FCSR, 0xe0n);
    expect(native.regs.get(FCSR)!.length).toBe(4);
    expect(vcpu.getReg(FCSR)).toBe(0xe0n);
  });

  it('rejects values that do not fit the register and non-bigint ids', () => {
    const { vcpu } = make();
    expect(() => vcpu.setReg(FCSR, 1n << 32n)).toThrow(RangeError);
    expect(() => vcpu.setReg(PC, 1n << 64n)).toThrow(/core\.pc/);
    expect(() => vcpu.setReg(PC, 5 as unknown as bigint)).toThrow(TypeError);
    expect(() => vcpu.getReg(1 as unknown as bigint)).toThrow(TypeError);
    expect(() => vcpu.getReg(-1n)).toThrow(RangeError);
  });

  it('turns a native errno into KvmError naming the ioctl and the register', () => {
    const { vcpu } = make();
    try {
      vcpu.getReg(regId('core.a0'));
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmError);
      const k = e as KvmError;
      expect(k.code).toBe('ENOENT');
      expect(k.errno).toBe(2);
      expect(k.syscall).toBe('ioctl');
      expect(k.message).toBe('KVM_GET_ONE_REG (core.a0): No such file or directory');
    }
  });

  it('converts native error shapes', () => {
    const busy = fromNativeError(errnoError(16, 'KVM_SET_ONE_REG'), 'core.pc') as KvmError;
    expect(busy.message).toBe('KVM_SET_ONE_REG (core.pc): Device or resource busy');
    const closed = fromNativeError(Object.assign(new Error('x'), { code: 'ERR_KVM_CLOSED' })) as KvmStateError;
    expect(closed).toBeInstanceOf(KvmStateError);
    expect(closed.code).toBe('ERR_KVM_CLOSED');
    const t = new TypeError('t');
    expect(fromNativeError(t)).toBe(t);
    expect(fromNativeError('str')).toBe('str');
  });
});

describe('KvmVcpu state machine', () => {
  it('is running while a run is pending, refuses a second run and register access, then goes idle', async () => {
    const { native, vcpu } = make();
    expect(vcpu.state).toBe('idle');
    const p = vcpu.run();
    expect(vcpu.state).toBe('running');
    await expectState(vcpu.run(), 'ERR_KVM_BUSY');
    await expectState(() => vcpu.runSync(), 'ERR_KVM_BUSY');
    await expectState(() => vcpu.getReg(PC), 'ERR_KVM_BUSY');
    await expectState(() => vcpu.getMpState(), 'ERR_KVM_BUSY');
    vcpu.setExternalInterrupt(true); // KVM_INTERRUPT is async: allowed while running
    expect(native.interrupts).toEqual([KVM_INTERRUPT_SET]);
    vcpu.stop();
    expect(await p).toEqual({ reason: 'interrupted' });
    expect(vcpu.state).toBe('idle');
    vcpu.setExternalInterrupt(false);
    expect(native.interrupts).toEqual([KVM_INTERRUPT_SET, KVM_INTERRUPT_UNSET]);
  });

  it('stop() while idle makes the next run return interrupted', async () => {
    const { vcpu } = make();
    vcpu.stop();
    expect(await vcpu.run()).toEqual({ reason: 'interrupted' });
    expect(vcpu.runSync()).toEqual({ reason: 'interrupted' });
  });

  it('writes the SBI completion only for a pending SBI exit', async () => {
    const { native, vcpu } = make();
    await expectState(() => vcpu.setSbiReturn(0), 'ERR_KVM_NO_PENDING_EXIT');
    native.script.push(sbiExit);
    const e = await vcpu.run();
    expect(e).toMatchObject({ reason: 'sbi', extensionId: 0x0800_0000, ret: [0xffff_ffff_ffff_fffen, 0n] });
    vcpu.setSbiReturn(-1, 0x55n);
    expect(native.view.getBigInt64(OFF.riscv_sbi_ret, true)).toBe(-1n);
    expect(native.view.getBigUint64(OFF.riscv_sbi_ret + 8, true)).toBe(0x55n);
    await expectState(() => vcpu.setMmioLoad(1), 'ERR_KVM_NO_PENDING_EXIT');
    await expectState(() => vcpu.setCsrReturn(1), 'ERR_KVM_NO_PENDING_EXIT');
    expect(() => vcpu.setSbiReturn(1.5)).toThrow(RangeError);
    expect(() => vcpu.setSbiReturn(1n << 64n)).toThrow(RangeError);
    // The next KVM_RUN consumes the completion: afterwards there is nothing to complete.
    native.script.push(() => 4);
    await vcpu.run();
    await expectState(() => vcpu.setSbiReturn(0), 'ERR_KVM_NO_PENDING_EXIT');
  });

  it('supplies MMIO load data of the exit length and refuses it for stores', async () => {
    const { native, vcpu } = make();
    native.script.push(mmioLoad);
    expect((await vcpu.run()).reason).toBe('mmio');
    vcpu.setMmioLoad(0x1_2345_6789n);
    expect(native.view.getBigUint64(OFF.mmio_data, true)).toBe(0x2345_6789n);
    native.script.push((v) => {
      mmioLoad(v);
      v.setUint8(OFF.mmio_is_write, 1);
      return 0;
    });
    await vcpu.run();
    await expectState(() => vcpu.setMmioLoad(0), 'ERR_KVM_NO_PENDING_EXIT');
  });

  it('rejects run() with KvmError for KVM_RUN failures', async () => {
    const { native, vcpu } = make();
    native.script.push(() => 14, () => 95, () => 5);
    for (const [code, text] of [['EFAULT', 'Bad address'], ['EOPNOTSUPP', 'Operation not supported'], ['EIO', 'Input/output error']]) {
      const err = await vcpu.run().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).code).toBe(code);
      expect((err as KvmError).message).toBe(`KVM_RUN (vcpu 0): ${text}`);
      expect(vcpu.state).toBe('idle');
    }
  });

  it('maps MP states and validates them', () => {
    const { native, vcpu } = make();
    expect(vcpu.getMpState()).toBe('runnable');
    vcpu.setMpState('stopped');
    expect(native.mpState).toBe(5);
    expect(vcpu.getMpState()).toBe('stopped');
    expect(() => vcpu.setMpState('halted' as never)).toThrow(RangeError);
  });

  it('closes idempotently; every method afterwards fails with ERR_KVM_CLOSED; a pending run resolves', async () => {
    const { native, vcpu } = make();
    const p = vcpu.run();
    vcpu.close();
    expect(native.closed).toBe(true);
    expect(await p).toEqual({ reason: 'interrupted' });
    expect(vcpu.state).toBe('closed');
    vcpu.close();
    vcpu.stop();
    await expectState(vcpu.run(), 'ERR_KVM_CLOSED');
    for (const op of [
      () => vcpu.runSync(),
      () => vcpu.getReg(PC),
      () => vcpu.setReg(PC, 0n),
      () => vcpu.getRegList(),
      () => vcpu.setSbiReturn(0),
      () => vcpu.setMmioLoad(0),
      () => vcpu.setCsrReturn(0),
      () => vcpu.setExternalInterrupt(true),
      () => vcpu.getMpState(),
      () => vcpu.setMpState('runnable'),
    ]) {
      await expectState(op, 'ERR_KVM_CLOSED');
    }
  });
});
