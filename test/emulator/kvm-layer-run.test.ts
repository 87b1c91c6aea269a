/**
 * The run loop and handle life cycle of the software KVM: stop() of a spinning guest, the event
 * loop staying responsive while a guest spins, runSync(), the hypervisor answers, and every error
 * path (closed handles, concurrent run, completing an exit that was not delivered, bad arguments).
 */
import { describe, expect, it } from 'vitest';
import { KVM_CAP_IRQCHIP, KVM_CAP_MP_STATE, KVM_CAP_NR_MEMSLOTS, KVM_CAP_ONE_REG, KVM_CAP_READONLY_MEM } from '../../lib/abi/kvm.js';
import { REG_A0, REG_PC } from '../../lib/abi/regs.js';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { EmulatorVm } from '../../lib/backend/emulator/vm.js';
import { KvmStateError } from '../../lib/errors.js';
import { hasCrossTools } from './support/asm.js';
import { makeMachine, REPORT_EID } from './support/guest.js';

const d = hasCrossTools() ? describe : describe.skip;
const SPIN = `
    li a0, 0
  1:
    addi a0, a0, 1
    j 1b
`;

d('running', () => {
  it('stop() ends a pending run() of a spinning guest with interrupted; the event loop keeps turning', async () => {
    const m = makeMachine(SPIN);
    const v = m.vcpus[0];
    const run = v.run();
    expect(v.state).toBe('running');
    let ticks = 0;
    const interval = setInterval(() => { ticks++; }, 5);
    const fired = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      setTimeout(() => resolve(Date.now() - t0), 20);
    });
    expect(fired).toBeLessThan(500); // a timer fired while the guest spins
    await new Promise((r) => setTimeout(r, 80));
    clearInterval(interval);
    expect(ticks).toBeGreaterThanOrEqual(2);
    v.stop();
    expect(await run).toEqual({ reason: 'interrupted' });
    expect(v.state).toBe('idle');
    const a0 = v.getReg(REG_A0);
    expect(a0).toBeGreaterThan(1000n); // it really ran
    // run() again continues where it stopped
    const again = v.run();
    await new Promise((r) => setTimeout(r, 10));
    v.stop();
    await again;
    expect(v.getReg(REG_A0)).toBeGreaterThan(a0);
  });

  it('stop() before run() makes the next run() return at once (immediate_exit), after applying the completion', async () => {
    const m = makeMachine(`
      sbi 0x09000001, 0
      mv a1, a0
      sbi ${REPORT_EID}, 0
    `);
    const v = m.vcpus[0];
    const fwd = await v.run();
    expect(fwd).toMatchObject({ reason: 'sbi', extensionId: 0x09000001 });
    const pc = v.getReg(REG_PC);
    v.setSbiReturn(5, 6);
    v.stop();
    expect(await v.run()).toEqual({ reason: 'interrupted' });
    // The completion was applied (once) even though the run was interrupted.
    expect(v.getReg(REG_A0)).toBe(5n);
    expect(v.getReg(REG_PC)).toBe(pc + 4n);
    expect(() => v.setSbiReturn(0)).toThrow(expect.objectContaining({ code: 'ERR_KVM_NO_PENDING_EXIT' }));
    const report = await v.run();
    expect(report).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, args: [5n, 5n, 0n, 0n, 0n, 0n] });
  });

  it('runSync() runs to the next exit on the calling thread', () => {
    const m = makeMachine(`
      li a0, 3
      sbi ${REPORT_EID}, 0
      li t0, 0x10000000
      sw a0, 0(t0)
      wfi
    `);
    const v = m.vcpus[0];
    expect(v.runSync()).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, args: [3n, 0n, 0n, 0n, 0n, 0n] });
    expect(v.runSync()).toMatchObject({ reason: 'mmio', isWrite: true, length: 4 });
    // wfi with nothing that could wake it on this thread: interrupted instead of blocking forever
    expect(v.runSync()).toEqual({ reason: 'interrupted' });
  });

  it('a second run() while one is pending rejects with ERR_KVM_BUSY; so do register accesses', async () => {
    const m = makeMachine(SPIN);
    const v = m.vcpus[0];
    const first = v.run();
    await expect(v.run()).rejects.toMatchObject({ name: 'KvmStateError', code: 'ERR_KVM_BUSY' });
    expect(() => v.runSync()).toThrow(expect.objectContaining({ code: 'ERR_KVM_BUSY' }));
    expect(() => v.getReg(REG_PC)).toThrow(expect.objectContaining({ code: 'ERR_KVM_BUSY' }));
    expect(() => v.getMpState()).toThrow(expect.objectContaining({ code: 'ERR_KVM_BUSY' }));
    expect(() => v.setSbiReturn(0)).toThrow(expect.objectContaining({ code: 'ERR_KVM_BUSY' }));
    v.setExternalInterrupt(false); // KVM_INTERRUPT is legal while running
    v.stop();
    await first;
  });
});

describe('emulator defects', () => {
  it('an exception inside the hart fails that run() instead of escaping into the event loop', async () => {
    const vm = createEmulator().createVm() as EmulatorVm;
    vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 4096 });
    const v = vm.createVcpu(0);
    vm.kernelVcpus[0].hart.run = () => { throw new Error('boom'); };
    await expect(v.run()).rejects.toThrow('boom');
    expect(v.state).toBe('idle');
    vm.close();
  });
});

describe('handles', () => {
  it('the hypervisor answers like a riscv 6.12 host without AIA', () => {
    const hv = createEmulator();
    expect(hv.backend).toBe('emulator');
    expect(hv.apiVersion()).toBe(12);
    expect(hv.checkExtension(KVM_CAP_IRQCHIP)).toBe(0);
    expect(hv.checkExtension(KVM_CAP_ONE_REG)).toBe(1);
    expect(hv.checkExtension(KVM_CAP_READONLY_MEM)).toBe(1);
    expect(hv.checkExtension(KVM_CAP_MP_STATE)).toBe(1);
    expect(hv.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(32767);
    expect(hv.checkExtension(9999)).toBe(0);
    const vm = hv.createVm();
    expect(vm.capabilities).toEqual({ irqchip: false, readonlyMemory: true, maxVcpus: 1024, maxMemorySlots: 32767 });
    expect(() => createEmulator({ time: 'fast' as never })).toThrow(RangeError);
  });

  it('vCPU 0 starts runnable, the others stopped; ids are checked', () => {
    const vm = createEmulator().createVm();
    const v0 = vm.createVcpu(3);
    const v1 = vm.createVcpu(0);
    expect(v0.getMpState()).toBe('runnable'); // creation index 0, whatever its id
    expect(v1.getMpState()).toBe('stopped');
    expect(() => vm.createVcpu(3)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => vm.createVcpu(5000)).toThrow(RangeError);
    expect(() => vm.createVcpu(-1)).toThrow(RangeError);
    expect(() => v0.setMpState('halted' as never)).toThrow(RangeError);
    expect(() => v0.setExternalInterrupt(1 as never)).toThrow(TypeError);
    expect(vm.vcpus.map((v) => v.id)).toEqual([3, 0]);
  });

  it('completing an exit that was not delivered fails with ERR_KVM_NO_PENDING_EXIT', () => {
    const v = createEmulator().createVm().createVcpu(0);
    for (const f of [() => v.setSbiReturn(0), () => v.setMmioLoad(0), () => v.setCsrReturn(0)]) {
      expect(f).toThrow(expect.objectContaining({ name: 'KvmStateError', code: 'ERR_KVM_NO_PENDING_EXIT' }));
    }
  });

  it('closed handles fail with ERR_KVM_CLOSED method by method; close is idempotent', async () => {
    const hv = createEmulator();
    const vm = hv.createVm();
    const mem = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000, size: 4096 });
    const v = vm.createVcpu(0);
    const other = vm.createVcpu(1);
    const pending = other.run(); // stopped vCPU: pending until close
    hv.close();
    hv.close();
    expect(() => hv.createVm()).toThrow(KvmStateError);
    expect(() => hv.apiVersion()).toThrow(expect.objectContaining({ code: 'ERR_KVM_CLOSED' }));
    expect(vm.closed).toBe(false); // VMs outlive the hypervisor handle
    v.close();
    v.close();
    expect(v.state).toBe('closed');
    const calls: (() => unknown)[] = [
      () => v.getReg(REG_PC), () => v.setReg(REG_PC, 0n), () => v.getRegList(), () => v.runSync(),
      () => v.setSbiReturn(0), () => v.setMmioLoad(0), () => v.setCsrReturn(0), () => v.setExternalInterrupt(true),
      () => v.getMpState(), () => v.setMpState('runnable'),
    ];
    for (const call of calls) expect(call).toThrow(expect.objectContaining({ code: 'ERR_KVM_CLOSED' }));
    await expect(v.run()).rejects.toMatchObject({ code: 'ERR_KVM_CLOSED' });
    expect(() => v.stop()).not.toThrow(); // stop() of a closed vCPU is harmless
    vm.close();
    vm.close();
    expect(await pending).toEqual({ reason: 'interrupted' });
    expect(mem.closed).toBe(true);
    expect(() => mem.read8(0x8000_0000)).toThrow(expect.objectContaining({ code: 'ERR_KVM_CLOSED' }));
    for (const call of [() => vm.createVcpu(2), () => vm.setMemoryRegion({ slot: 1, guestPhysAddr: 0, size: 4096 }),
      () => vm.memoryRegions(), () => vm.getDirtyLog(0), () => vm.checkExtension(0), () => other.getReg(REG_PC)]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_KVM_CLOSED' }));
    }
  });
});
