import { describe, expect, it } from 'vitest';
import { KvmVcpu, toWord } from '../../lib/backend/kvm/vcpu.js';
import { KvmStateError } from '../../lib/errors.js';
import { FakeVcpu } from './kvm-fake-native.js';

describe('KvmVcpu.runPollMicros', () => {
  it('defaults to the addon default and passes valid values to the addon', () => {
    const native = new FakeVcpu(0);
    const vcpu = new KvmVcpu(native, 0);
    expect(vcpu.runPollMicros).toBe(0);
    vcpu.runPollMicros = 100;
    expect(native.runPoll).toBe(100);
    vcpu.runPollMicros = 1_000_000;
    expect(native.runPoll).toBe(1_000_000);
    expect(vcpu.runPollMicros).toBe(1_000_000);
  });

  it('refuses values outside 0..1e6 or not integers, leaving the setting alone', () => {
    const native = new FakeVcpu(0);
    const vcpu = new KvmVcpu(native, 0);
    vcpu.runPollMicros = 250;
    for (const bad of [-1, 1_000_001, 1.5, Number.NaN, Infinity]) {
      expect(() => {
        vcpu.runPollMicros = bad;
      }).toThrow(RangeError);
    }
    expect(native.runPoll).toBe(250);
    expect(vcpu.runPollMicros).toBe(250);
  });

  it('fails with ERR_KVM_CLOSED once the vCPU is closed', () => {
    const native = new FakeVcpu(0);
    const vcpu = new KvmVcpu(native, 0);
    vcpu.close();
    let err: unknown;
    try {
      vcpu.runPollMicros = 10;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvmStateError);
    expect((err as KvmStateError).code).toBe('ERR_KVM_CLOSED');
  });
});

describe('toWord (the completion path of every exit)', () => {
  it('keeps in-range values, wraps negative ones and refuses the rest, for every width', () => {
    for (const bits of [8, 16, 32, 64]) {
      const top = (1n << BigInt(bits)) - 1n;
      expect(toWord(top, bits, 'v')).toBe(top);
      expect(toWord(0n, bits, 'v')).toBe(0n);
      expect(toWord(0, bits, 'v')).toBe(0n);
      expect(toWord(-1n, bits, 'v')).toBe(top);
      expect(toWord(-1, bits, 'v')).toBe(top);
      expect(() => toWord(top + 1n, bits, 'v')).toThrow(RangeError);
      expect(() => toWord(-(1n << BigInt(bits - 1)) - 1n, bits, 'v')).toThrow(RangeError);
    }
    expect(toWord(0xffffffff, 32, 'v')).toBe(0xffffffffn);
    expect(() => toWord(0x1_0000_0000, 32, 'v')).toThrow(RangeError);
    expect(toWord(0x1_0000_0000, 64, 'v')).toBe(0x1_0000_0000n);
    expect(() => toWord(1.5, 64, 'v')).toThrow(RangeError);
    expect(() => toWord(256, 8, 'v')).toThrow(RangeError);
    expect(() => toWord('1' as never, 64, 'v')).toThrow(TypeError);
  });
});
