/**
 * The cross-backend comparison: the complete exit sequence of guest/src/sequence.S, written down
 * from the program's semantics (see the comment at the top of the .S file), not captured from a
 * run. On the host this checks the emulator; in the rig the same file checks real KVM, so both
 * backends are held to one list.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor, VcpuExit } from '../../lib/backend/types.js';
import { REG_A0, REG_PC } from '../../lib/abi/regs.js';
import { SBI_EXT_BASE, sbiU64 } from '../../lib/abi/sbi.js';
import { describeBackends } from '../support/backends.js';
import { runUntil, withProgram } from '../support/guest.js';

/** An exit reduced to what both backends must agree on. */
function normalise(exit: VcpuExit): Record<string, unknown> {
  switch (exit.reason) {
    case 'sbi': return { reason: 'sbi', eid: exit.extensionId, fid: exit.functionId, args: [...exit.args], ret: [...exit.ret] };
    case 'mmio': return { reason: 'mmio', address: exit.address, length: exit.length, isWrite: exit.isWrite, ...(exit.isWrite ? { data: [...exit.data.subarray(0, exit.length)] } : {}) };
    case 'system_event': return { reason: 'system_event', type: exit.type, typeCode: exit.typeCode, data: [...exit.data] };
    default: return { ...exit };
  }
}

const PREFILLED = [sbiU64(-2), 0n];
const big = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
const EXPECTED_EXITS: Array<Record<string, unknown> & { args?: bigint[] }> = [
  { reason: 'sbi', eid: 0x08000100, fid: 1n, args: [1n, 2n, 3n, 4n, 5n, 6n], ret: PREFILLED },
  { reason: 'mmio', address: 0x10001000n, length: 8, isWrite: true, data: [0x01, 0x01, 0, 0, 0, 0, 0, 0] },
  { reason: 'mmio', address: 0x10001002n, length: 2, isWrite: false },
  { reason: 'sbi', eid: 0x09000001, fid: 2n, args: [sbiU64(-16), 0x101n, 0n, 0n, 0n, 0n], ret: PREFILLED },
  { reason: 'mmio', address: 0x10001007n, length: 1, isWrite: true, data: [98] },
  { reason: 'sbi', eid: SBI_EXT_BASE, fid: 3n, args: [0x08000100n, 0n, 0n, 0n, 0n, 0n], ret: PREFILLED },
  { reason: 'system_event', type: 'shutdown', typeCode: 1, data: [1n] },
];

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('a multi-exit program produces exactly the exit sequence its semantics dictate', async () => {
    await withProgram(hv, 'sequence', {}, async (p) => {
      const run = await runUntil(p.vcpu, {
        sbi(exit, vcpu) {
          if (exit.extensionId === 0x09000001) vcpu.setSbiReturn(-1, 0);
          else vcpu.setSbiReturn(0, exit.functionId + 0x100n);
        },
        mmio(exit, vcpu) { if (!exit.isWrite) vcpu.setMmioLoad(0xfff0); },
      }, { maxExits: 20 });
      const got = run.exits.map(normalise);
      // Linux 6.12 zero-extends MMIO loads (see mmio.test.ts): the lh of 0xFFF0 reaches the guest
      // as 0xFFF0 instead of -16, which is all that changes in the sequence. Accepted on kvm only.
      const kvm612 = EXPECTED_EXITS.map((e, i) => (i === 3 ? { ...e, args: [0xfff0n, ...(e.args ?? []).slice(1)] } : e));
      if (backend.kind === 'kvm' && JSON.stringify(got, big) === JSON.stringify(kvm612, big)) {
        console.log('[kvm] exit sequence matches except the 6.12 MMIO zero-extension');
        expect(got).toEqual(kvm612);
      } else {
        expect(got).toEqual(EXPECTED_EXITS);
      }
      // After SRST the pc is still on its ecall and a0 holds the reset type (shutdown = 0).
      expect(p.vcpu.getReg(REG_A0)).toBe(0n);
      const pc = p.vcpu.getReg(REG_PC);
      expect(p.ram.read32(pc)).toBe(0x00000073); // ecall
    });
  });
});
