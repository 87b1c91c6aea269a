/**
 * The one-time JIT warm-up (lib/backend/emulator/warmup.ts): the guest runs to its SRST end with
 * every phase done, its throwaway VM is closed and leaves no timer behind, a failure inside is
 * swallowed, KVM_RISCV_WARMUP=0 turns it off, and what a user VM sees does not depend on it (the
 * same exits and the same final registers with and without it).
 *
 * Each case that depends on the once-per-process state imports a fresh copy of the emulator
 * modules (vi.resetModules), so it sees the warm-up exactly as a new process would.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Hypervisor, Vcpu } from '../../lib/backend/types.js';
import { runUntil, withProgram } from '../support/guest.js';

type WarmupModule = typeof import('../../lib/backend/emulator/warmup.js');
type VmModule = typeof import('../../lib/backend/emulator/vm.js');
type IndexModule = typeof import('../../lib/backend/emulator/index.js');

/** Fresh emulator modules: warmup.ts state as in a new process. */
async function freshModules(): Promise<{ warmup: WarmupModule; vm: VmModule; index: IndexModule }> {
  vi.resetModules();
  const warmup = await import('../../lib/backend/emulator/warmup.js');
  const vm = await import('../../lib/backend/emulator/vm.js');
  const index = await import('../../lib/backend/emulator/index.js');
  return { warmup, vm, index };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('the warm-up guest', () => {
  it('runs to its SRST shutdown with every phase done, on a VM it closes, leaving no timer', async () => {
    const { warmup, vm } = await freshModules();
    const close = vi.spyOn(vm.EmulatorVm.prototype, 'close');
    const before = timers();
    expect(warmup.runWarmupGuest()).toBe(warmup.WARMUP_DONE_MASK);
    expect(close).toHaveBeenCalledTimes(1);
    expect((close.mock.contexts[0] as InstanceType<VmModule['EmulatorVm']>).closed).toBe(true);
    expect(timers()).toBe(before);
  });

  it('runs once, at the first createVm, unless KVM_RISCV_WARMUP=0', async () => {
    vi.stubEnv('KVM_RISCV_WARMUP', '1');
    const { warmup, vm, index } = await freshModules();
    const close = vi.spyOn(vm.EmulatorVm.prototype, 'close');
    expect(warmup.warmupStatus().state).toBe('not-run');
    const hv = index.createEmulator();
    const a = hv.createVm();
    expect(warmup.warmupStatus()).toMatchObject({ state: 'done', reason: warmup.WARMUP_DONE_MASK });
    expect(close).toHaveBeenCalledTimes(1); // the throwaway VM, not `a`
    expect(a.closed).toBe(false);
    hv.createVm().close();
    expect(close).toHaveBeenCalledTimes(2); // no second warm-up
    a.close();

    vi.stubEnv('KVM_RISCV_WARMUP', '0');
    const off = await freshModules();
    const closeOff = vi.spyOn(off.vm.EmulatorVm.prototype, 'close');
    off.index.createEmulator().createVm().close();
    expect(off.warmup.warmupStatus().state).toBe('off');
    expect(closeOff).toHaveBeenCalledTimes(1); // only the user's VM
  });

  it('swallows a failure inside: createVm still works and the status says what happened', async () => {
    vi.stubEnv('KVM_RISCV_WARMUP', '1');
    const { warmup, vm, index } = await freshModules();
    const real = vm.EmulatorVm.prototype.setMemoryRegion;
    let calls = 0;
    vi.spyOn(vm.EmulatorVm.prototype, 'setMemoryRegion').mockImplementation(function (this: InstanceType<VmModule['EmulatorVm']>, o) {
      if (calls++ === 0) throw new Error('no memory for the warm-up');
      return real.call(this, o);
    });
    const user = index.createEmulator().createVm();
    expect(warmup.warmupStatus()).toMatchObject({ state: 'failed', error: 'no memory for the warm-up' });
    expect(user.setMemoryRegion({ slot: 0, guestPhysAddr: 0x8000_0000n, size: 1 << 20 }).size).toBe(1 << 20);
    user.close();
  });
});

/** Exits and every final ONE_REG register of the timer and sequence guests on a fresh hypervisor. */
async function userVisibleRun(hv: Hypervisor): Promise<string> {
  const out: unknown[] = [];
  const regs = (vcpu: Vcpu) => vcpu.getRegList().map((id) => {
    try { return [id, vcpu.getReg(id)]; } catch (e) { return [id, (e as Error).message]; }
  });
  await withProgram(hv, 'timer', { regs: { 'core.a2': 5000n } }, async (p) => {
    const run = await runUntil(p.vcpu);
    out.push(run.exits, regs(p.vcpu));
  });
  await withProgram(hv, 'sequence', {}, async (p) => {
    const run = await runUntil(p.vcpu, {
      sbi(exit, vcpu) { vcpu.setSbiReturn(0, exit.functionId + 0x100n); },
      mmio(exit, vcpu) { if (!exit.isWrite) vcpu.setMmioLoad(0xfff0); },
    });
    out.push(run.exits, regs(p.vcpu));
  });
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));
}

it('a user VM sees the same exits and final registers with KVM_RISCV_WARMUP on and off', async () => {
  vi.stubEnv('KVM_RISCV_WARMUP', '1');
  const on = await freshModules();
  const withWarmup = await userVisibleRun(on.index.createEmulator());
  expect(on.warmup.warmupStatus().state).toBe('done');

  vi.stubEnv('KVM_RISCV_WARMUP', '0');
  const off = await freshModules();
  const without = await userVisibleRun(off.index.createEmulator());
  expect(off.warmup.warmupStatus().state).toBe('off');

  expect(withWarmup).toBe(without);
  expect(withWarmup).toContain('"system_event"');
});
