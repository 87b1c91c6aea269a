/**
 * Interrupts into the guest: the supervisor external line driven by user space
 * (setExternalInterrupt = KVM_INTERRUPT, kvm-riscv-abi.md §1.5: a level) and the SBI timer
 * (SBI §6.1) waking a wfi. scause values: privileged spec §10.1.9 (interrupt bit | code).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { REG_TIMER_FREQUENCY } from '../../lib/abi/regs.js';
import { describeBackends } from '../support/backends.js';
import { reportPairs, runToReport, runUntil, runWithTimeout, withProgram } from '../support/guest.js';

const SCAUSE_S_EXTERNAL = 0x8000000000000009n;
const SCAUSE_S_TIMER = 0x8000000000000005n;

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('external interrupt raised between runs is taken; lowering it from the handler report ends it', async () => {
    await withProgram(hv, 'irq', {}, async (p) => {
      const ready = await runToReport(p.vcpu);
      expect(ready.report.tag).toBe(1);
      p.vcpu.setSbiReturn(0, 0);
      p.vcpu.setExternalInterrupt(true);
      const taken = await runToReport(p.vcpu);
      // (a1 = sip.SEIP as the handler read it: not asserted, nested QEMU's KVM shows 0 there.)
      expect([taken.report.tag, taken.report.args[0]]).toEqual([2, SCAUSE_S_EXTERNAL]);
      p.vcpu.setExternalInterrupt(false);
      p.vcpu.setSbiReturn(0, 0);
      const rest = await runUntil(p.vcpu);
      // Exactly one handler entry: the line is a level and was lowered before the sret.
      expect(reportPairs(rest.reports)).toEqual([[3, 1n, 0n]]);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });

  it('external interrupt raised while run() is pending wakes the guest from wfi', async () => {
    await withProgram(hv, 'irq', {}, async (p) => {
      await runToReport(p.vcpu);
      p.vcpu.setSbiReturn(0, 0);
      const pending = runWithTimeout(p.vcpu, 20_000);
      // Let the guest reach its wfi loop, then raise the line from this (another) thread.
      await new Promise((r) => setTimeout(r, 50));
      p.vcpu.setExternalInterrupt(true);
      const exit = await pending;
      expect(exit).toMatchObject({ reason: 'sbi', extensionId: 0x08000000, functionId: 2n });
      if (exit.reason === 'sbi') expect(exit.args[0]).toBe(SCAUSE_S_EXTERNAL);
      p.vcpu.setExternalInterrupt(false);
      p.vcpu.setSbiReturn(0, 0);
      const rest = await runUntil(p.vcpu);
      expect(reportPairs(rest.reports)).toEqual([[3, 1n, 0n]]);
    });
  });

  it('SBI set_timer + wfi: the timer interrupt arrives at or after the deadline', async () => {
    const hvFreq = await withProgram(hv, 'timer', {}, (p) => p.vcpu.getReg(REG_TIMER_FREQUENCY));
    expect(hvFreq).toBeGreaterThan(0n);
    const delta = hvFreq / 100n; // 10 ms
    await withProgram(hv, 'timer', { regs: { 'core.a2': delta } }, async (p) => {
      const run = await runUntil(p.vcpu);
      expect(reportPairs(run.reports)).toEqual([
        [1, 0n, 0n],
        [2, SCAUSE_S_TIMER, 1n],
        [3, 1n, 0n],
      ]);
      // (The guest itself checks rdtime >= deadline in the handler: report 2's a1. Wall time is not
      // compared: the emulator's default clock is deterministic and skips idle wfi time.)
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });
});
