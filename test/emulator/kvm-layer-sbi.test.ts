/**
 * The software KVM's in-kernel SBI and what it forwards (kvm-riscv-abi.md §4.2-§4.5), with real
 * guest code: BASE probing, DBCN off/on, experimental/vendor forwarding with a ret round trip,
 * SRST, unknown EIDs and the legacy v0.1 extension of a CONFIG_RISCV_SBI_V01 host.
 */
import { describe, expect, it } from 'vitest';
import { REG_A0, REG_PC, REG_SBI_EXT_DBCN, regId } from '../../lib/abi/regs.js';
import { sbiU64 } from '../../lib/abi/sbi.js';
import { makeMachine, REPORT_EID, runCollecting, s64 } from './support/guest.js';
import { hasCrossTools } from './support/asm.js';

const d = hasCrossTools() ? describe : describe.skip;

/** Report a0/a1 of the last call as (a0, a1) of a report exit. */
const REPORT = `
    mv a0, a0
    sbi ${REPORT_EID}, 0
`;

d('SBI BASE (in kernel)', () => {
  it('answers version, implementation, probes and machine ids like KVM 6.12', async () => {
    const m = makeMachine(`
      sbi 0x10, 0            # get_spec_version
      ${REPORT}
      sbi 0x10, 1            # get_impl_id
      ${REPORT}
      sbi 0x10, 2            # get_impl_version
      ${REPORT}
      li a0, 0x54494D45      # probe TIME
      sbi 0x10, 3
      ${REPORT}
      li a0, 0x504D55        # probe PMU (unavailable)
      sbi 0x10, 3
      ${REPORT}
      li a0, 0x4442434E      # probe DBCN (disabled by default)
      sbi 0x10, 3
      ${REPORT}
      li a0, 0x53555350      # probe SUSP (not in 6.12)
      sbi 0x10, 3
      ${REPORT}
      li a0, 0x1             # probe legacy putchar: no CONFIG_RISCV_SBI_V01
      sbi 0x10, 3
      ${REPORT}
      sbi 0x10, 4            # get_mvendorid
      ${REPORT}
      li a1, 77
      sbi 0x10, 9            # unknown BASE function
      ${REPORT}
      li a1, 77
      sbi 0x4a4b4c4d, 0      # unknown extension: a0 = -2, a1 = 0, no exit
      ${REPORT}
      wfi
      j .
    `);
    m.vcpus[0].setReg(regId('config.mvendorid'), 0x5a5an);
    const { reports } = await collectN(m.vcpus[0], 11);
    const pairs = reports.map((r) => [s64(r[0]), r[1]]);
    expect(pairs).toEqual([
      [0n, 0x0200_0000n],
      [0n, 3n],
      [0n, 0x060c75n],
      [0n, 1n],
      [0n, 0n],
      [0n, 0n],
      [0n, 0n],
      [0n, 0n],
      [0n, 0x5a5an],
      [-2n, 0n],
      [-2n, 0n],
    ]);
  });

  it('forwards a probe of an experimental EID and returns what user space answers', async () => {
    const m = makeMachine(`
      li a0, 0x08000123
      sbi 0x10, 3
      ${REPORT}
      j .
    `);
    const vcpu = m.vcpus[0];
    const exit = await vcpu.run();
    expect(exit).toMatchObject({ reason: 'sbi', extensionId: 0x10, functionId: 3n });
    if (exit.reason !== 'sbi') throw new Error('unreachable');
    expect(exit.args[0]).toBe(0x08000123n);
    expect(exit.ret).toEqual([sbiU64(-2), 0n]);
    vcpu.setSbiReturn(0, 1);
    const report = await vcpu.run();
    expect(report).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, args: [0n, 1n, 0n, 0n, 0n, 0n] });
  });
});

d('forwarded calls', () => {
  it('experimental and vendor calls reach user space with a7/a6/a0-a5; ret lands in a0/a1, pc += 4 once', async () => {
    const m = makeMachine(`
      li a0, 10
      li a1, 11
      li a2, 12
      li a3, 13
      li a4, 14
      li a5, 15
      sbi 0x08abcdef, 0x77
      ${REPORT}
      sbi 0x09000042, 5      # vendor; user space leaves the pre-filled ret
      ${REPORT}
      j .
    `);
    const vcpu = m.vcpus[0];
    const exit = await vcpu.run();
    expect(exit).toEqual({
      reason: 'sbi', extensionId: 0x08abcdef, functionId: 0x77n,
      args: [10n, 11n, 12n, 13n, 14n, 15n], ret: [sbiU64(-2), 0n],
    });
    const pcAtEcall = vcpu.getReg(REG_PC);
    vcpu.setSbiReturn(-7, 0x1234n);
    const r1 = await vcpu.run();
    expect(r1).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID });
    if (r1.reason !== 'sbi') throw new Error('unreachable');
    expect([s64(r1.args[0]), r1.args[1]]).toEqual([-7n, 0x1234n]);
    // The report ecall comes two instructions after the forwarded one (mv + li a7 + li a6 ...):
    // the forwarded ecall was stepped over exactly once.
    expect(vcpu.getReg(REG_PC)).toBeGreaterThan(pcAtEcall + 4n);
    vcpu.setSbiReturn(0);
    const vendor = await vcpu.run();
    expect(vendor).toMatchObject({ reason: 'sbi', extensionId: 0x09000042, functionId: 5n });
    const r2 = await vcpu.run(); // no setSbiReturn: the guest sees the pre-filled {-2, 0}
    if (r2.reason !== 'sbi') throw new Error('unreachable');
    expect([s64(r2.args[0]), r2.args[1]]).toEqual([-2n, 0n]);
  });

  it('DBCN is handled in the kernel (NOT_SUPPORTED) until enabled, then forwarded for FIDs 0-2', async () => {
    const src = `
      li a0, 5
      li a1, 0x80001000
      li a2, 0
      sbi 0x4442434E, 0      # console_write
      ${REPORT}
      li a0, 0x41
      sbi 0x4442434E, 2      # console_write_byte
      ${REPORT}
      sbi 0x4442434E, 3      # no such function
      ${REPORT}
      j .
    `;
    const off = makeMachine(src);
    const { reports } = await collectN(off.vcpus[0], 3);
    expect(reports.map((r) => s64(r[0]))).toEqual([-2n, -2n, -2n]);

    const on = makeMachine(src);
    const vcpu = on.vcpus[0];
    expect(vcpu.getReg(REG_SBI_EXT_DBCN)).toBe(0n);
    vcpu.setReg(REG_SBI_EXT_DBCN, 1n);
    const write = await vcpu.run();
    expect(write).toMatchObject({ reason: 'sbi', extensionId: 0x4442434e, functionId: 0n, args: [5n, 0x80001000n, 0n, 0n, 0n, 0n] });
    vcpu.setSbiReturn(0, 5);
    const r1 = await vcpu.run();
    expect(r1).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, args: [0n, 5n, 0n, 0n, 0n, 0n] });
    vcpu.setSbiReturn(0);
    const byte = await vcpu.run();
    expect(byte).toMatchObject({ reason: 'sbi', extensionId: 0x4442434e, functionId: 2n });
    if (byte.reason !== 'sbi') throw new Error('unreachable');
    expect(byte.args[0]).toBe(0x41n);
    vcpu.setSbiReturn(0);
    await vcpu.run(); // report of write_byte
    vcpu.setSbiReturn(0);
    const r3 = await vcpu.run(); // FID 3 stayed in the kernel
    if (r3.reason !== 'sbi') throw new Error('unreachable');
    expect(s64(r3.args[0])).toBe(-2n);
  });
});

d('SRST', () => {
  it('shutdown → system_event shutdown with the reason, every vCPU stopped, pc on the ecall', async () => {
    const m = makeMachine(`
      li a0, 0
      li a1, 1
      sbi 0x53525354, 0
      j .
    `, { vcpus: 2 });
    const pending1 = m.vcpus[1].run(); // vCPU 1 is STOPPED: its run stays pending
    const exit = await m.vcpus[0].run();
    expect(exit).toEqual({ reason: 'system_event', type: 'shutdown', typeCode: 1, data: [1n] });
    expect(m.vcpus[0].getMpState()).toBe('stopped');
    expect(m.vcpus[0].getReg(REG_A0)).toBe(0n);
    // pc was not advanced: it still points at the ecall (0x00000073).
    expect(m.ram.read32(m.vcpus[0].getReg(REG_PC))).toBe(0x73);
    m.vcpus[1].stop();
    expect(await pending1).toEqual({ reason: 'interrupted' });
    expect(m.vcpus[1].getMpState()).toBe('stopped');
  });

  it('cold and warm reboot → reset; other types → NOT_SUPPORTED without an exit', async () => {
    for (const type of [1, 2]) {
      const m = makeMachine(`
        li a0, ${type}
        li a1, 0
        sbi 0x53525354, 0
      `);
      expect(await m.vcpus[0].run()).toEqual({ reason: 'system_event', type: 'reset', typeCode: 2, data: [0n] });
    }
    const m = makeMachine(`
      li a0, 3
      sbi 0x53525354, 0
      ${REPORT}
      li a0, 0x100000000     # type is 32 bits: this is a shutdown
      li a1, 0
      sbi 0x53525354, 0
    `);
    const { reports, last } = await runCollecting(m.vcpus[0]);
    expect(reports.map((r) => s64(r[0]))).toEqual([-2n]);
    expect(last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
  });
});

d('legacy SBI v0.1', () => {
  const src = `
    li a0, 0x48
    sbi 0x1, 0             # console_putchar
    ${REPORT}
    sbi 0x8, 0             # shutdown
  `;
  it('is NOT_SUPPORTED on a host without CONFIG_RISCV_SBI_V01 (the default)', async () => {
    const m = makeMachine(src);
    const first = await m.vcpus[0].run();
    if (first.reason !== 'sbi') throw new Error('expected the report');
    expect(first.extensionId).toBe(REPORT_EID);
    expect(s64(first.args[0])).toBe(-2n);
  });

  it('with sbiV01: putchar is forwarded, shutdown is a system event', async () => {
    const m = makeMachine(src, { vm: { sbiV01: true } });
    const vcpu = m.vcpus[0];
    const put = await vcpu.run();
    expect(put).toMatchObject({ reason: 'sbi', extensionId: 1, args: [0x48n, 0n, 0n, 0n, 0n, 0n] });
    vcpu.setSbiReturn(0);
    const report = await vcpu.run();
    expect(report).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, args: [0n, 0n, 0n, 0n, 0n, 0n] });
    vcpu.setSbiReturn(0);
    expect(await vcpu.run()).toEqual({ reason: 'system_event', type: 'shutdown', typeCode: 1, data: [0n] });
  });
});

d('RFENCE', () => {
  it('remote fence.i / sfence.vma succeed (unknown harts skipped); hypervisor fences are NOT_SUPPORTED', async () => {
    const m = makeMachine(`
      li a0, 1
      li a1, 0
      sbi 0x52464E43, 0      # remote_fence_i(hart 0)
      ${REPORT}
      li a0, 0xff
      li a1, 0
      sbi 0x52464E43, 1      # remote_sfence_vma: harts 1-7 do not exist, no error
      ${REPORT}
      li a0, 0
      li a1, -1
      sbi 0x52464E43, 2      # remote_sfence_vma_asid on every hart
      ${REPORT}
      sbi 0x52464E43, 3      # remote_hfence_gvma_vmid
      ${REPORT}
      sbi 0x52464E43, 6
      ${REPORT}
    `);
    const { reports } = await collectN(m.vcpus[0], 5);
    expect(reports.map((r) => s64(r[0]))).toEqual([0n, 0n, 0n, -2n, -2n]);
  });
});

d('legacy SBI v0.1 hart masks', () => {
  it('reads the mask through the guest pointer; a bad pointer traps into the guest', async () => {
    const m = makeMachine(`
      la t0, handler
      csrw stvec, t0
      li t0, 0x80080000
      li t1, 1
      sd t1, 0(t0)           # mask: hart 0
      mv a0, t0
      sbi 0x4, 0             # send_ipi(&mask)
      csrr a1, sip           # SSIP now pending (not enabled)
      ${REPORT}
      li a0, 0x20000000      # not RAM
      sbi 0x4, 0
      j .
    handler:
      csrr a0, scause
      csrr a1, stval
      csrr a2, sepc
      ${REPORT}
    `, { vm: { sbiV01: true } });
    const { reports } = await collectN(m.vcpus[0], 2);
    expect([s64(reports[0][0]), reports[0][1] & 2n]).toEqual([0n, 2n]);
    expect(reports[1][0]).toBe(5n); // load access fault, delivered to the guest's own handler
    expect(reports[1][1]).toBe(0x2000_0000n);
    expect(m.ram.read32(reports[1][2])).toBe(0x73); // sepc = the ecall
  });
});

async function collectN(vcpu: import('../../lib/backend/types.js').Vcpu, n: number) {
  const reports: bigint[][] = [];
  while (reports.length < n) {
    const exit = await vcpu.run();
    if (exit.reason !== 'sbi' || exit.extensionId !== REPORT_EID) throw new Error(`unexpected exit ${JSON.stringify(exit, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    reports.push([...exit.args]);
    vcpu.setSbiReturn(0, 0);
  }
  return { reports };
}
