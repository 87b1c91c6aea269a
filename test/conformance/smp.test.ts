/**
 * Two vCPUs: the secondary starts STOPPED and the guest starts it with SBI HSM (SBI §9), which
 * the backend handles in the "kernel" (kvm-riscv-abi.md §4.5): user space only runs the vCPUs,
 * each in its own loop, as a VMM does (a stopped vCPU's run() simply stays pending).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { sbiU64, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOPPED } from '../../lib/abi/sbi.js';
import { describeBackends } from '../support/backends.js';
import { reportPairs, runUntil, withProgram } from '../support/guest.js';

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('hart_start brings up vCPU 1 with a0 = hartid, a1 = opaque; hart_get_status, errors, hart_stop', async () => {
    await withProgram(hv, 'smp', { vcpus: 2 }, async (p) => {
      const [boot, second] = p.vcpus as [typeof p.vcpu, typeof p.vcpu];
      expect(boot.getMpState()).toBe('runnable');
      expect(second.getMpState()).toBe('stopped');

      // vCPU 1's loop starts first: its run() waits (STOPPED) until hart 0's hart_start.
      const secondLoop = runUntil(second, { other: () => 'stop' }, { timeoutMs: 30_000 });
      const bootRun = await runUntil(boot, {}, { timeoutMs: 30_000 }).finally(() => {
        // After hart_stop and SRST vCPU 1 sleeps in its run(); get it out.
        setTimeout(() => second.stop(), 50);
      });
      const secondRun = await secondLoop;

      expect(reportPairs(bootRun.reports)).toEqual([
        [1, 0n, BigInt(SBI_HSM_STATE_STOPPED)],
        [2, 0n, 0n],
        [3, 0n, BigInt(SBI_HSM_STATE_STARTED)],
        [4, sbiU64(-6), 0n], // SBI_ERR_ALREADY_AVAILABLE
        [5, sbiU64(-3), 0n], // SBI_ERR_INVALID_PARAM
        [6, 0n, BigInt(SBI_HSM_STATE_STOPPED)],
      ]);
      expect(bootRun.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
      // Hart 1 ran from the start address with a0 = hartid, a1 = opaque, SIE = 0, satp = 0.
      expect(secondRun.reports.map((r) => [r.tag, ...r.args.slice(0, 4)])).toEqual([[0x100, 1n, 0x5ec0da7an, 0n, 0n]]);
      expect(secondRun.last).toEqual({ reason: 'interrupted' });
      // SRST stops every vCPU (kvm-riscv-abi.md §4.4).
      expect([boot.getMpState(), second.getMpState()]).toEqual(['stopped', 'stopped']);
    });
  });
});
