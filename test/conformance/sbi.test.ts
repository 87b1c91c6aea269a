/**
 * SBI as a guest sees it through each backend: what the kernel answers (BASE, unknown EIDs, SRST)
 * and what it forwards to user space (experimental/vendor ranges, DBCN when enabled).
 * Expected values: SBI spec v2.0 and kvm-riscv-abi.md §4 (KVM 6.12 behaviour).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor, SbiExit } from '../../lib/backend/types.js';
import { regId, REG_A0, REG_PC } from '../../lib/abi/regs.js';
import { SBI_EXT_BASE, SBI_EXT_DBCN, SBI_SPEC_VERSION_2_0, SBI_IMPL_ID_KVM, sbiU64 } from '../../lib/abi/sbi.js';
import { describeBackends } from '../support/backends.js';
import { LOAD_ADDR, reportPairs, runUntil, withProgram } from '../support/guest.js';

const NOT_SUPPORTED = sbiU64(-2);

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('BASE: spec version, impl id and probes answered in the kernel; unknown EIDs get -2 without an exit', async () => {
    await withProgram(hv, 'base', {}, async (p) => {
      const run = await runUntil(p.vcpu);
      expect(reportPairs(run.reports)).toEqual([
        [1, 0n, BigInt(SBI_SPEC_VERSION_2_0)],
        [2, 0n, BigInt(SBI_IMPL_ID_KVM)],
        [3, 0n, 1n], // TIME
        [4, 0n, 1n], // HSM
        [5, 0n, 0n], // DBCN: disabled by default
        [6, 0n, 0n], // unknown EID
        [7, NOT_SUPPORTED, 0n],
        [8, NOT_SUPPORTED, 0n],
        [9, NOT_SUPPORTED, 0n],
        [10, NOT_SUPPORTED, 0n], // legacy putchar: a Debian-like host has no SBI v0.1
      ]);
      // Only the ten reports and the final SRST left the kernel.
      expect(run.exits).toHaveLength(11);
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown', data: [0n] });
    });
  });

  it('BASE probe reports DBCN once user space enabled it', async () => {
    await withProgram(hv, 'base', { enableDbcn: true }, async (p) => {
      const run = await runUntil(p.vcpu);
      expect(reportPairs(run.reports)[4]).toEqual([5, 0n, 1n]);
    });
  });

  it('experimental and vendor calls are forwarded with a7/a6/a0..a5 and pre-filled (-2, 0); answers reach the guest', async () => {
    await withProgram(hv, 'forward', {}, async (p) => {
      const forwarded: SbiExit[] = [];
      const run = await runUntil(p.vcpu, {
        sbi(exit, vcpu) {
          forwarded.push(exit);
          if (exit.extensionId === 0x08001234) vcpu.setSbiReturn(0, 0xdeadbeefcafef00dn);
          else if (exit.extensionId === 0x09abcdef) vcpu.setSbiReturn(-3, 0x1234);
          else if (exit.extensionId === SBI_EXT_BASE) vcpu.setSbiReturn(0, 1);
          // EID 0x08000001 is left unanswered: the guest must see the pre-filled (-2, 0).
        },
      });
      expect(forwarded.map((e) => [e.extensionId, e.functionId])).toEqual([
        [0x08001234, 7n],
        [0x09abcdef, 0x42n],
        [SBI_EXT_BASE, 3n],
        [0x08000001, 0xfedcba9876543210n],
      ]);
      expect(forwarded[0]!.args).toEqual([0x10n, 0x11n, 0x12n, 0x13n, 0x14n, 0x15n]);
      expect(forwarded[1]!.args).toEqual([sbiU64(-1), sbiU64(-2), 0x8000000000000000n, 0n, 0n, 0x7fn]);
      expect(forwarded[2]!.args[0]).toBe(0x08001234n);
      for (const e of forwarded) expect(e.ret).toEqual([NOT_SUPPORTED, 0n]);
      expect(reportPairs(run.reports)).toEqual([
        [1, 0n, 0xdeadbeefcafef00dn],
        [2, sbiU64(-3), 0x1234n],
        [3, 0n, 1n],
        [4, NOT_SUPPORTED, 0n],
      ]);
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });

  it('DBCN enabled: console_write, console_write_byte and console_read exit to user space', async () => {
    await withProgram(hv, 'dbcn', { enableDbcn: true }, async (p) => {
      let console = '';
      const calls: bigint[] = [];
      const run = await runUntil(p.vcpu, {
        sbi(exit, vcpu) {
          expect(exit.extensionId).toBe(SBI_EXT_DBCN);
          calls.push(exit.functionId);
          const [count, lo, hi] = exit.args as [bigint, bigint, bigint];
          if (exit.functionId === 0n) {
            expect(hi).toBe(0n);
            console += Buffer.from(p.ram.readBytes(lo, Number(count))).toString('latin1');
            vcpu.setSbiReturn(0, count);
          } else if (exit.functionId === 2n) {
            console += String.fromCharCode(Number(count & 0xffn));
            vcpu.setSbiReturn(0, 0);
          } else if (exit.functionId === 1n) {
            expect(count).toBe(8n);
            expect(hi).toBe(0n);
            p.ram.writeBytes(lo, new Uint8Array([0x61, 0x62, 0x63]));
            vcpu.setSbiReturn(0, 3);
          }
        },
      });
      expect(calls).toEqual([0n, 2n, 1n]);
      expect(console).toBe('hello from the guest\n!');
      expect(reportPairs(run.reports)).toEqual([
        [1, 0n, 21n],
        [2, 0n, 0n],
        [3, 0n, 3n],
        [4, 0x636261n, 0n],
        [5, NOT_SUPPORTED, 0n], // unknown DBCN FID: answered in the kernel
      ]);
    });
  });

  it('DBCN disabled (the default): the guest gets -2 and nothing is forwarded', async () => {
    await withProgram(hv, 'dbcn', {}, async (p) => {
      const run = await runUntil(p.vcpu, { sbi: () => 'stop' });
      expect(run.last.reason).toBe('system_event');
      expect(reportPairs(run.reports)).toEqual([
        [1, NOT_SUPPORTED, 0n],
        [2, NOT_SUPPORTED, 0n],
        [3, NOT_SUPPORTED, 0n],
        [4, 0n, 0n],
        [5, NOT_SUPPORTED, 0n],
      ]);
    });
  });

  const resets = [
    { name: 'shutdown', type: 0n, reason: 0n, event: 'shutdown', typeCode: 1 },
    { name: 'cold reboot', type: 1n, reason: 1n, event: 'reset', typeCode: 2 },
    { name: 'warm reboot', type: 2n, reason: 0xf0000000n, event: 'reset', typeCode: 2 },
  ] as const;
  for (const r of resets) {
    it(`SRST ${r.name}: SYSTEM_EVENT ${r.event}, data[0] = reason, a0 = type, pc on the ecall, vCPUs stopped`, async () => {
      await withProgram(hv, 'srst', { vcpus: 2, regs: { 'core.a2': r.type, 'core.a3': r.reason } }, async (p) => {
        const run = await runUntil(p.vcpu);
        expect(run.reports).toEqual([]);
        expect(run.exits).toHaveLength(1);
        expect(run.last).toMatchObject({ reason: 'system_event', type: r.event, typeCode: r.typeCode, data: [r.reason] });
        expect(p.vcpu.getReg(REG_A0)).toBe(r.type);
        expect(p.vcpu.getReg(REG_PC)).toBe(p.symbol('srst_ecall'));
        expect(p.vcpus.map((v) => v.getMpState())).toEqual(['stopped', 'stopped']);
      });
    });
  }

  it('SRST reboot: user space re-enters the boot vCPU and the guest runs again', async () => {
    await withProgram(hv, 'srst', { regs: { 'core.a2': 1n, 'core.a3': 0n } }, async (p) => {
      const first = await runUntil(p.vcpu);
      expect(first.last).toMatchObject({ reason: 'system_event', type: 'reset' });
      // No "reset vCPU" ioctl on riscv (kvm-riscv-abi.md §4.4): set pc/a0..a3, then RUNNABLE.
      p.vcpu.setReg(REG_PC, LOAD_ADDR);
      p.vcpu.setReg(REG_A0, 0n);
      p.vcpu.setReg(regId('core.a2'), 0n);
      p.vcpu.setMpState('runnable');
      const second = await runUntil(p.vcpu);
      expect(second.last).toMatchObject({ reason: 'system_event', type: 'shutdown', data: [0n] });
    });
  });

  it('SRST with an unknown reset type returns -2 to the guest instead of exiting', async () => {
    await withProgram(hv, 'srst', { regs: { 'core.a2': 5n, 'core.a3': 0n } }, async (p) => {
      const run = await runUntil(p.vcpu);
      expect(reportPairs(run.reports)).toEqual([[1, NOT_SUPPORTED, 0n]]);
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    });
  });
});
