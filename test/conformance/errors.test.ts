/**
 * Misuse of handles (house style §10): every call after close fails with a named error, close is
 * idempotent, memory dies with its VM, run() is exclusive, completions need a delivered exit,
 * slots are validated before reaching the kernel (types.ts Vm.setMemoryRegion).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { KvmError, KvmStateError } from '../../lib/errors.js';
import { REG_A0 } from '../../lib/abi/regs.js';
import { describeBackends } from '../support/backends.js';
import { loadProgram, RAM_BASE, runToReport, runWithTimeout, withProgram } from '../support/guest.js';

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('run() after the VM is closed rejects with ERR_KVM_CLOSED; other vCPU/VM calls throw it too', async () => {
    const p = loadProgram(hv, 'base');
    p.close();
    await expect(p.vcpu.run()).rejects.toMatchObject({ name: 'KvmStateError', code: 'ERR_KVM_CLOSED' });
    expect(p.vcpu.state).toBe('closed');
    expect(p.vm.closed).toBe(true);
    for (const call of [() => p.vcpu.getReg(REG_A0), () => p.vcpu.setReg(REG_A0, 1n), () => p.vcpu.runSync(),
      () => p.vm.createVcpu(1), () => p.vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x90000000, size: 4096 })]) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(KvmStateError);
      expect(e).toMatchObject({ code: 'ERR_KVM_CLOSED' });
    }
  });

  it('run() after vcpu.close() rejects with ERR_KVM_CLOSED; the VM lives on', async () => {
    await withProgram(hv, 'base', {}, async (p) => {
      p.vcpu.close();
      p.vcpu.close(); // idempotent
      await expect(p.vcpu.run()).rejects.toMatchObject({ code: 'ERR_KVM_CLOSED' });
      expect(p.vm.closed).toBe(false);
      expect(p.ram.read32(0x80200000n)).not.toBe(0);
    });
  });

  it('closing twice is harmless (VM, vCPU, hypervisor)', () => {
    const own = backend.open();
    const p = loadProgram(own, 'base');
    p.vm.close();
    expect(() => p.vm.close()).not.toThrow();
    expect(() => p.vcpu.close()).not.toThrow();
    own.close();
    expect(() => own.close()).not.toThrow();
  });

  it('VMs made before the hypervisor handle was closed stay usable', async () => {
    const own = backend.open();
    const p = loadProgram(own, 'srst', { regs: { 'core.a2': 0n, 'core.a3': 0n } });
    own.close();
    try {
      expect(await runWithTimeout(p.vcpu, 20_000)).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    } finally {
      p.close();
    }
  });

  it('guest memory access after VM close throws KvmStateError and reports closed', () => {
    const p = loadProgram(hv, 'base');
    expect(p.ram.closed).toBe(false);
    p.close();
    expect(p.ram.closed).toBe(true);
    for (const call of [() => p.ram.read32(RAM_BASE), () => p.ram.write8(RAM_BASE, 1), () => p.ram.readBytes(RAM_BASE, 16)]) {
      expect(thrown(call)).toBeInstanceOf(KvmStateError);
    }
  });

  it('a second run() while one is pending rejects with ERR_KVM_BUSY (runSync throws it)', async () => {
    await withProgram(hv, 'spin', { regs: { 'core.a2': 0x80300000n } }, async (p) => {
      const first = p.vcpu.run();
      await expect(p.vcpu.run()).rejects.toMatchObject({ name: 'KvmStateError', code: 'ERR_KVM_BUSY' });
      expect(thrown(() => p.vcpu.runSync())).toMatchObject({ code: 'ERR_KVM_BUSY' });
      p.vcpu.stop();
      expect((await first).reason).toBe('interrupted');
    });
  });

  it('memory slots: overlaps, reused slot numbers and misaligned ranges are RangeErrors', () => {
    const p = loadProgram(hv, 'base');
    try {
      const bad = [
        { slot: 1, guestPhysAddr: RAM_BASE + 0x1000n, size: 4096 }, // inside slot 0
        { slot: 1, guestPhysAddr: RAM_BASE - 0x1000n, size: 0x2000 }, // straddles its start
        { slot: 0, guestPhysAddr: 0x90000000, size: 4096 }, // slot 0 is taken
        { slot: 1, guestPhysAddr: 0x90000800, size: 4096 }, // not 4 KiB aligned
        { slot: 1, guestPhysAddr: 0x90000000, size: 100 }, // size not a multiple of 4 KiB
        { slot: 1, guestPhysAddr: 0x90000000, size: 0 },
      ];
      for (const options of bad) expect(thrown(() => p.vm.setMemoryRegion(options)), JSON.stringify(options, (_, v) => typeof v === 'bigint' ? `0x${v.toString(16)}` : v)).toBeInstanceOf(RangeError);
      expect(p.vm.memoryRegions()).toHaveLength(1);
      const ok = p.vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0x90000000, size: 4096 });
      expect(ok.guestPhysAddr).toBe(0x90000000n);
      expect(p.vm.memoryRegions()).toHaveLength(2);
    } finally {
      p.close();
    }
  });

  it('completing an exit that was not delivered throws ERR_KVM_NO_PENDING_EXIT', async () => {
    await withProgram(hv, 'base', {}, async (p) => {
      for (const call of [() => p.vcpu.setSbiReturn(0, 0), () => p.vcpu.setMmioLoad(0), () => p.vcpu.setCsrReturn(0)]) {
        const e = thrown(call);
        expect(e).toBeInstanceOf(KvmStateError);
        expect(e).toMatchObject({ code: 'ERR_KVM_NO_PENDING_EXIT' });
      }
      // After an SBI exit, only the SBI completion is legal.
      await runToReport(p.vcpu);
      expect(thrown(() => p.vcpu.setMmioLoad(0))).toMatchObject({ code: 'ERR_KVM_NO_PENDING_EXIT' });
      expect(() => p.vcpu.setSbiReturn(0, 0)).not.toThrow();
    });
  });

  it('creating a vCPU id twice fails and leaves the VM as it was', () => {
    const p = loadProgram(hv, 'base');
    try {
      const e = thrown(() => p.vm.createVcpu(0));
      // types.ts does not pin the error: the kernel says EEXIST, a wrapper may pre-empt it with a
      // RangeError naming the id (as it does for memory slots). Either is a clean refusal.
      const ok = e instanceof RangeError || (e instanceof KvmError && e.code === 'EEXIST');
      expect(ok, `unexpected error ${String(e)}`).toBe(true);
      expect(p.vm.vcpus).toHaveLength(1);
      expect(p.vm.vcpus[0]).toBe(p.vcpu);
    } finally {
      p.close();
    }
  });
});
