/**
 * Several vCPUs on the software KVM: HSM (start, status, stop, errors), IPIs, and determinism —
 * the same two-hart guest gives the same exit sequence, register values and times on every run.
 */
import { describe, expect, it } from 'vitest';
import { regId } from '../../lib/abi/regs.js';
import type { Vcpu, VcpuExit } from '../../lib/backend/types.js';
import { hasCrossTools } from './support/asm.js';
import { DATA, makeMachine, REPORT_EID, runCollecting, s64 } from './support/guest.js';

const d = hasCrossTools() ? describe : describe.skip;
const REPORT = `sbi ${REPORT_EID}, 0`;
const HSM = 0x48534d;
const IPI = 0x735049;

d('HSM', () => {
  it('starts a stopped hart with pc/a0/a1, reports status, refuses bad starts, lets a hart stop itself', async () => {
    const m = makeMachine(`
      li a0, 1
      sbi ${HSM}, 2          # status(1): STOPPED
      ${REPORT}
      li a0, 1
      la a1, secondary
      li a2, 0x55
      sbi ${HSM}, 0          # start(1, secondary, 0x55)
      ${REPORT}
      li a0, 1
      la a1, secondary
      sbi ${HSM}, 0          # start again: ALREADY_AVAILABLE
      ${REPORT}
      li a0, 9
      sbi ${HSM}, 0          # no such hart: INVALID_PARAM
      ${REPORT}
      li a0, 9
      sbi ${HSM}, 2          # status of no such hart: INVALID_PARAM
      ${REPORT}
      li t0, ${DATA}
      li t1, 1
      sd t1, 16(t0)          # let hart 1 go on and stop
    1:
      li a0, 1
      sbi ${HSM}, 2          # wait until hart 1 stopped itself again
      li t0, 1
      bne a1, t0, 1b
      li t0, ${DATA}
      ld a0, 0(t0)
      ld a1, 8(t0)
      ${REPORT}
      li a0, 0x12345
      sbi ${HSM}, 3          # suspend with a platform type: INVALID_PARAM
      ${REPORT}
      li a0, 0x80000000
      sbi ${HSM}, 3          # default non-retentive: NOT_SUPPORTED
      ${REPORT}
      sbi ${HSM}, 1          # hart 0 stops itself
      j .
    secondary:
      li t0, ${DATA}
      sd a0, 0(t0)           # hartid
      sd a1, 8(t0)           # opaque
    5:
      ld t1, 16(t0)
      beqz t1, 5b
      sbi ${HSM}, 1          # stop
      j .
    `, { vcpus: 2 });
    const [v0, v1] = m.vcpus;
    expect(v1.getMpState()).toBe('stopped');
    const second = v1.run();
    const { reports } = await collect(v0, 8);
    expect(reports.map((r) => [s64(r[0]), r[1]])).toEqual([
      [0n, 1n], // STOPPED
      [0n, 0n],
      [-6n, 0n], // ALREADY_AVAILABLE
      [-3n, 0n], // INVALID_PARAM
      [-3n, 0n],
      [1n, 0x55n], // what hart 1 saw in a0 / a1
      [-3n, 0n],
      [-2n, 0n],
    ]);
    // hart 0 stops itself with HSM: its run() stays pending, like a STOPPED vCPU in KVM_RUN.
    const last = v0.run();
    let settled = false;
    void last.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    v0.stop();
    v1.stop();
    expect(await last).toEqual({ reason: 'interrupted' });
    expect(await second).toEqual({ reason: 'interrupted' });
    expect([v0.getMpState(), v1.getMpState()]).toEqual(['stopped', 'stopped']);
  });

  it('setMpState(runnable) wakes a STOPPED vCPU without resetting its registers', async () => {
    const m = makeMachine(`
      li a0, 0x77
      sbi ${HSM}, 1
      ${REPORT}
    `);
    const v = m.vcpus[0];
    const run = v.run();
    await new Promise((r) => setTimeout(r, 10));
    expect(() => v.getMpState()).toThrow(expect.objectContaining({ code: 'ERR_KVM_BUSY' }));
    v.stop(); // as with KVM: kick it out of KVM_RUN, then change its MP state
    expect(await run).toEqual({ reason: 'interrupted' });
    expect(v.getMpState()).toBe('stopped');
    v.setMpState('runnable');
    const exit = await v.run();
    // a0 = 0 is hart_stop's return; a1 kept what it had (0) — registers were not reset: pc moved on.
    expect(exit).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID });
  });
});

d('HSM retentive suspend', () => {
  it('hart_suspend(default retentive) waits like wfi and returns 0 once an enabled interrupt is pending', async () => {
    const m = makeMachine(`
      li t0, 32
      csrs sie, t0           # STIE, with sstatus.SIE off: pending wakes the hart but traps nothing
      rdtime s0
      li t1, 5000
      add a0, s0, t1
      sbi 0x54494D45, 0
      li a0, 0
      sbi ${HSM}, 3          # suspend (default retentive)
      rdtime a2
      sub a2, a2, s0
      csrr a1, sip
      ${REPORT}
    `);
    const exit = await m.vcpus[0].run();
    expect(exit).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID });
    if (exit.reason !== 'sbi') throw new Error('unreachable');
    expect(exit.args[0]).toBe(0n);
    expect(exit.args[1] & 32n).toBe(32n);
    expect(exit.args[2]).toBeGreaterThanOrEqual(5000n);
  });
});

d('IPI', () => {
  it('pends the S software interrupt on the named harts, INVALID_PARAM for a hart that does not exist', async () => {
    const m = makeMachine(`
      li a0, 1
      la a1, secondary
      sbi ${HSM}, 0
    1:
      li a0, 1
      sbi ${HSM}, 2          # wait until hart 1 sits in wfi: SUSPENDED (4)
      li t0, 4
      bne a1, t0, 1b
      ${REPORT}
      li a0, 2               # mask bit 1, base 0 → hart 1
      li a1, 0
      sbi ${IPI}, 0
      ${REPORT}
      li t0, ${DATA}
    2:
      ld t1, 0(t0)
      beqz t1, 2b
      li a0, 1               # mask bit 0 with base 1 → hart 1 again
      li a1, 1
      sbi ${IPI}, 0
      ${REPORT}
    3:
      ld t1, 0(t0)
      li t2, 2
      bne t1, t2, 3b
      li a0, 0x22            # harts 1 and 5: 5 does not exist
      li a1, 0
      sbi ${IPI}, 0
      ${REPORT}
      li a0, 0
      li a1, -1              # base -1: every hart
      sbi ${IPI}, 0
      ${REPORT}
      csrr a0, sip           # hart 0 got one too (SSIP pending, not enabled)
      ${REPORT}
      li a0, 0
      li a1, 0
      sbi 0x53525354, 0
    secondary:
      la t0, handler
      csrw stvec, t0
      li t0, 2
      csrs sie, t0
      csrsi sstatus, 2
    4:
      wfi
      j 4b
    handler:
      li t0, 2
      csrc sip, t0
      li t0, ${DATA}
      ld t1, 0(t0)
      addi t1, t1, 1
      sd t1, 0(t0)
      sret
    `, { vcpus: 2 });
    const second = m.vcpus[1].run();
    const { reports, last } = await runCollecting(m.vcpus[0]);
    expect(reports.map((r) => [s64(r[0]), r[1]])).toEqual([
      [0n, 4n],
      [0n, 0n],
      [0n, 0n],
      [-3n, 0n],
      [0n, 0n],
      [2n, 0n],
    ]);
    expect(last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    expect(m.ram.read64(DATA)).toBeGreaterThanOrEqual(3n);
    m.vcpus[1].stop();
    expect(await second).toEqual({ reason: 'interrupted' });
  });
});

d('determinism', () => {
  /** Two harts race on a shared counter and report time and instret; hart 1 reports on its vCPU. */
  const RACE = `
      li a0, 1
      la a1, worker
      sbi ${HSM}, 0
      li s0, 0
    1:
      li t0, ${DATA}
      li t1, 1
      amoadd.d t2, t1, (t0)
      rdtime a1
      mv a0, t2
      addi s0, s0, 1
      andi t3, s0, 255
      bnez t3, 2f
      ${REPORT}
    2:
      li t4, 3000
      blt s0, t4, 1b
      li a0, 0
      li a1, 0
      sbi 0x53525354, 0
    worker:
      li s0, 0
    3:
      li t0, ${DATA}
      li t1, 1
      amoadd.d t2, t1, (t0)
      addi s0, s0, 1
      andi t3, s0, 511
      bnez t3, 4f
      mv a0, t2
      rdinstret a1
      ${REPORT}
    4:
      j 3b
  `;

  async function trace(): Promise<string[]> {
    const m = makeMachine(RACE, { vcpus: 2 });
    const log: string[] = [];
    const show = (v: Vcpu, e: VcpuExit) => `${v.id}:${JSON.stringify(e, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}`;
    let done = false;
    async function loop(v: Vcpu): Promise<void> {
      while (!done) {
        const e = await v.run();
        log.push(show(v, e));
        if (e.reason === 'system_event') { done = true; for (const o of m.vcpus) if (o !== v) o.stop(); return; }
        if (e.reason === 'interrupted') return;
        if (e.reason === 'sbi') v.setSbiReturn(0);
      }
    }
    await Promise.all(m.vcpus.map(loop));
    log.push(`time=${m.vcpus[0].getReg(regId('timer.time'))}`);
    m.vm.close();
    return log;
  }

  it('gives the same exit sequence, values and time on every run', async () => {
    const a = await trace();
    const b = await trace();
    expect(a.length).toBeGreaterThan(10);
    expect(a.some((l) => l.startsWith('1:'))).toBe(true);
    expect(b).toEqual(a);
  });
});

async function collect(vcpu: Vcpu, n: number): Promise<{ reports: bigint[][] }> {
  const reports: bigint[][] = [];
  while (reports.length < n) {
    const exit = await vcpu.run();
    if (exit.reason !== 'sbi' || exit.extensionId !== REPORT_EID) throw new Error(`unexpected exit ${exit.reason}`);
    reports.push([...exit.args]);
    vcpu.setSbiReturn(0, 0);
  }
  return { reports };
}
