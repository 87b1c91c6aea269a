// runBareMetal (the machinery behind `kvm-riscv run`) on every available backend with the shared
// guest programs (guest/src: srst, dbcn). On a host without KVM only the emulator runs; the KVM
// describe is skipped with the way to run it (test/support/backends.ts).
import { expect, it } from 'vitest';
import { regId } from '../../lib/abi/regs.js';
import { SBI_ERR_NOT_SUPPORTED, sbiU64 } from '../../lib/abi/sbi.js';
import { runBareMetal } from '../../lib/vmm/bare-metal.js';
import { createUserExtension } from '../../lib/sbi/index.js';
import { describeBackends } from '../support/backends.js';
import { readGuestImage, REPORT_EID } from '../support/guest.js';

describeBackends((backend) => {
  it.each([
    [0n, 0n, { kind: 'shutdown', reason: 0n }],
    [0n, 1n, { kind: 'shutdown', reason: 1n }],
    [1n, 0n, { kind: 'reset', reason: 0n }],
    [2n, 1n, { kind: 'reset', reason: 1n }],
  ])('srst type %s reason %s ends the run as expected (case %#)', async (type, reason, expected) => {
    const hv = backend.open();
    try {
      const res = await runBareMetal({
        hypervisor: hv, image: readGuestImage('srst'), memorySize: 64 << 20, timeoutMs: 30_000, output: { write() {} },
        onReady: ({ vcpu }) => { vcpu.setReg(regId('core.a2'), type); vcpu.setReg(regId('core.a3'), reason); },
      });
      expect(res.result).toEqual(expected);
    } finally {
      hv.close();
    }
  });

  it('DBCN is enabled before the first run: console_write and write_byte reach the output', async () => {
    const hv = backend.open();
    const out: number[] = [];
    const reports = new Map<number, readonly bigint[]>();
    try {
      const res = await runBareMetal({
        hypervisor: hv, image: readGuestImage('dbcn'), memorySize: 64 << 20, timeoutMs: 30_000,
        output: { write: (b) => { out.push(...b); } },
        input: { read: (max) => new TextEncoder().encode('kbd').subarray(0, max) },
        sbiExtensions: [createUserExtension({
          name: 'report', eid: REPORT_EID,
          functions: (call) => { reports.set(Number(call.functionId), call.args); return { error: 0, value: 0 }; },
        })],
      });
      expect(res.result).toEqual({ kind: 'shutdown', reason: 0n });
      expect(Buffer.from(out).toString()).toBe('hello from the guest\n!');
      expect(reports.get(1)?.slice(0, 2)).toEqual([0n, 21n]); // console_write: SUCCESS, 21 bytes
      expect(reports.get(2)?.slice(0, 2)).toEqual([0n, 0n]); // console_write_byte
      expect(reports.get(3)?.slice(0, 2)).toEqual([0n, 3n]); // console_read got "kbd"
      expect(reports.get(4)?.[0]).toBe(0x64626bn); // "kbd" little-endian
      expect(reports.get(5)?.slice(0, 2)).toEqual([sbiU64(SBI_ERR_NOT_SUPPORTED), 0n]); // unknown FID
    } finally {
      hv.close();
    }
  });
});
