/**
 * Guest exceptions: the ones KVM delegates (illegal instruction, breakpoint) are taken by the
 * guest's own trap handler and never exit; an instruction fetch from a guest physical address
 * with no memory fails KVM_RUN with EOPNOTSUPP (kvm-riscv-abi.md §1.6, §2.5). Causes: privileged
 * spec §10.1.9 (2 = illegal instruction, 3 = breakpoint).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { KvmError } from '../../lib/errors.js';
import { describeBackends } from '../support/backends.js';
import { reportPairs, runUntil, runWithTimeout, withProgram } from '../support/guest.js';

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('illegal instructions (incl. an M-mode CSR) and ebreak trap into the guest, not to user space', async () => {
    await withProgram(hv, 'traps', { regs: { 'core.a2': 0n } }, async (p) => {
      const run = await runUntil(p.vcpu);
      expect(reportPairs(run.reports)).toEqual([
        [1, 2n, p.symbol('insn_zero')],
        [1, 2n, p.symbol('insn_mcsr')],
        [1, 3n, p.symbol('insn_ebreak')],
        [2, 3n, 0n],
      ]);
      expect(run.exits).toHaveLength(5); // four reports and the SRST
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });

  it('an instruction fetch outside every slot fails run() with KvmError EOPNOTSUPP', async () => {
    await withProgram(hv, 'traps', { regs: { 'core.a2': 1n } }, async (p) => {
      let err: unknown;
      try {
        const exit = await runWithTimeout(p.vcpu, 20_000);
        err = new Error(`run() resolved with ${exit.reason}`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect(err).toMatchObject({ code: 'EOPNOTSUPP' });
      expect(p.vcpu.state).toBe('idle');
    });
  });
});
