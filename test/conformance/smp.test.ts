/**
 * Two vCPUs: the secondary starts STOPPED and the guest starts it with SBI HSM (SBI §9), which
 * the backend handles in the "kernel" (kvm-riscv-abi.md §4.5): user space only runs the vCPUs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { sbiU64, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOPPED } from '../../lib/abi/sbi.js';
import { describeBackends } from '../support/backends.js';
import { reportPairs, runToReport, runUntil, withProgram } from '../support/guest.js';

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('hart_start brings up vCPU 1 with a0 = hartid, a1 = opaque; hart_get_status and errors', async () => {
    await withProgram(hv, 'smp', { vcpus: 2 }, async (p) => {
      const [boot, second] = p.vcpus as [typeof p.vcpu, typeof p.vcpu];
      expect(second.getMpState()).toBe('stopped');

      // Hart 0: status of hart 1 before the start, then hart_start.
      const r1 = await runToReport(boot);
      expect([r1.report.tag, r1.report.args[0], r1.report.args[1]]).toEqual([1, 0n, BigInt(SBI_HSM_STATE_STOPPED)]);
      boot.setSbiReturn(0, 0);
      const r2 = await runToReport(boot);
      expect([r2.report.tag, r2.report.args[0], r2.report.args[1]]).toEqual([2, 0n, 0n]);
      expect(second.getMpState()).toBe('runnable');

      // Hart 1 runs from the start address with a0 = hartid, a1 = opaque, SIE = 0, satp = 0.
      const s = await runToReport(second);
      expect(s.report.tag).toBe(0x100);
      expect(s.report.args.slice(0, 4)).toEqual([1n, 0x5ec0da7an, 0n, 0n]);
      second.setSbiReturn(0, 0);

      // Hart 0 goes on: status STARTED, a second start is refused, an unknown hart is invalid.
      boot.setSbiReturn(0, 0);
      const rest = await runUntil(boot);
      expect(reportPairs(rest.reports)).toEqual([
        [3, 0n, BigInt(SBI_HSM_STATE_STARTED)],
        [4, sbiU64(-6), 0n], // SBI_ERR_ALREADY_AVAILABLE
        [5, sbiU64(-3), 0n], // SBI_ERR_INVALID_PARAM
      ]);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
      // SRST stops every vCPU (kvm-riscv-abi.md §4.4).
      expect([boot.getMpState(), second.getMpState()]).toEqual(['stopped', 'stopped']);
    });
  });
});
