/**
 * runSync() (the blocking form meant for worker threads) applies completions and delivers exits
 * exactly as run() does; state goes idle -> running -> idle around it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { describeBackends } from '../support/backends.js';
import { REPORT_EID, withProgram } from '../support/guest.js';

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('runSync() round trips: every answer reaches the guest', async () => {
    const rounds = 20;
    await withProgram(hv, 'pingpong', { regs: { 'core.a2': BigInt(rounds) } }, (p) => {
      const echoes: Array<[bigint, bigint]> = [];
      let last = '';
      for (let i = 0; i <= rounds; i++) {
        expect(p.vcpu.state).toBe('idle');
        const exit = p.vcpu.runSync();
        if (exit.reason === 'sbi' && exit.extensionId === REPORT_EID) {
          echoes.push([exit.args[0]!, exit.args[1]!]);
          p.vcpu.setSbiReturn(0, exit.args[0]! * 3n + 7n);
        } else {
          last = exit.reason;
          break;
        }
      }
      expect(last).toBe('system_event');
      expect(echoes).toEqual(Array.from({ length: rounds }, (_, n) => [BigInt(n), n === 0 ? 0n : BigInt(n - 1) * 3n + 7n]));
    });
  });
});
