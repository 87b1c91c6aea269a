/**
 * vcpu.stop(): makes a pending (or the next) run() return { reason: 'interrupted' } promptly
 * (KVM: immediate_exit + a signal, api.rst "immediate_exit"), and the guest resumes where it was.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { regId } from '../../lib/abi/regs.js';
import { describeBackends } from '../support/backends.js';
import { reportPairs, runUntil, runWithTimeout, withProgram } from '../support/guest.js';

const FLAG = 0x80300000n;
const S1 = regId('core.s1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('stop() interrupts a spinning guest, which then resumes and finishes', async () => {
    await withProgram(hv, 'spin', { regs: { 'core.a2': FLAG } }, async (p) => {
      const first = p.vcpu.run();
      expect(p.vcpu.state).toBe('running');
      await sleep(100);
      p.vcpu.stop();
      expect(await first).toEqual({ reason: 'interrupted' });
      expect(p.vcpu.state).toBe('idle');
      const count1 = p.vcpu.getReg(S1);
      expect(count1).toBeGreaterThan(0n);

      const second = p.vcpu.run();
      await sleep(50);
      p.vcpu.stop();
      expect((await second).reason).toBe('interrupted');
      const count2 = p.vcpu.getReg(S1);
      expect(count2).toBeGreaterThan(count1); // it resumed and kept counting

      p.ram.write32(FLAG, 1);
      const rest = await runUntil(p.vcpu);
      expect(rest.reports).toHaveLength(1);
      expect(rest.reports[0]!.args[0]).toBeGreaterThanOrEqual(count2);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });

  it('stop() before run() makes only the next run() return interrupted', async () => {
    await withProgram(hv, 'spin', { regs: { 'core.a2': FLAG } }, async (p) => {
      p.ram.write32(FLAG, 1);
      p.vcpu.stop();
      const exit = await runWithTimeout(p.vcpu, 5_000);
      expect(exit.reason).toBe('interrupted');
      const rest = await runUntil(p.vcpu);
      expect(reportPairs(rest.reports)).toHaveLength(1);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });
});
