import { describe, expect, it } from 'vitest';
import { KvmVcpu } from '../../lib/backend/kvm/vcpu.js';
import { KvmStateError } from '../../lib/errors.js';
import { FakeVcpu } from './kvm-fake-native.js';

describe('KvmVcpu.runPollMicros', () => {
  it('defaults to the addon default and passes valid values to the addon', () => {
    const native = new FakeVcpu(0);
    const vcpu = new KvmVcpu(native, 0);
    expect(vcpu.runPollMicros).toBe(100);
    vcpu.runPollMicros = 0;
    expect(native.runPoll).toBe(0);
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
