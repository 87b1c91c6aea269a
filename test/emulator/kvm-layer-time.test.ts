/**
 * Time on the software KVM: SBI set_timer + wfi (the interrupt arrives at the deadline; with nothing
 * else to do the clock skips ahead instead of waiting), a new future deadline clears a pending timer
 * interrupt, the timer ONE_REG registers, an external interrupt ending a wfi that has no deadline,
 * and realtime mode.
 */
import { describe, expect, it } from 'vitest';
import { regId } from '../../lib/abi/regs.js';
import { hasCrossTools } from './support/asm.js';
import { makeMachine, REPORT_EID, runCollecting } from './support/guest.js';

const d = hasCrossTools() ? describe : describe.skip;
const REPORT = `sbi ${REPORT_EID}, 0`;
const TIME = 0x54494d45;

/** Arms the timer DELTA ticks ahead, waits in wfi, and reports (t0, t_interrupt) from the handler,
 * then sip after re-arming far in the future, then shuts down. */
function timerGuest(delta: number): string {
  return `
      la t0, handler
      csrw stvec, t0
      li t0, 32
      csrs sie, t0           # STIE
      csrsi sstatus, 2       # SIE
      rdtime s0
      li t1, ${delta}
      add a0, s0, t1
      sbi ${TIME}, 0
    1:
      wfi
      j 1b
    handler:
      rdtime s1
      csrr s2, sip
      mv a0, s0
      mv a1, s1
      mv a2, s2
      ${REPORT}
      li a0, -1
      sbi ${TIME}, 0         # far future: clears the pending timer interrupt
      csrr a0, sip
      ${REPORT}
      li a0, 0
      li a1, 0
      sbi 0x53525354, 0
  `;
}

d('SBI timer', () => {
  it('raises the S timer interrupt at the deadline; wfi skips guest time instead of waiting', async () => {
    const m = makeMachine(timerGuest(100_000_000)); // 10 s of guest time
    const v = m.vcpus[0];
    expect(v.getReg(regId('timer.frequency'))).toBe(10_000_000n);
    const started = Date.now();
    const { reports, last } = await runCollecting(v);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(reports).toHaveLength(2);
    const [t0, t1, sip] = reports[0];
    expect(t1 - t0).toBeGreaterThanOrEqual(100_000_000n);
    expect(t1 - t0).toBeLessThan(100_000_100n);
    expect(sip & 32n).toBe(32n); // STIP pending when the handler ran
    expect(reports[1][0] & 32n).toBe(0n); // cleared by the new, future deadline
    expect(last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
    expect(v.getReg(regId('timer.compare'))).toBe(0xffff_ffff_ffff_ffffn);
    expect(v.getReg(regId('timer.state'))).toBe(1n); // armed (far future)
  });

  it('rdtime advances with retired instructions inside a slice (10 instructions per tick)', async () => {
    const m = makeMachine(`
      rdtime a0
      .rept 1000
      addi t0, t0, 1
      .endr
      rdtime a1
      sub a2, a1, a0
      ${REPORT}
    `);
    const exit = await m.vcpus[0].run();
    if (exit.reason !== 'sbi') throw new Error('expected the report');
    expect(exit.args[2]).toBeGreaterThanOrEqual(100n);
    expect(exit.args[2]).toBeLessThanOrEqual(101n);
  });

  it('gives the same interrupt time on every run (deterministic mode)', async () => {
    const a = (await runCollecting(makeMachine(timerGuest(12_345)).vcpus[0])).reports;
    const b = (await runCollecting(makeMachine(timerGuest(12_345)).vcpus[0])).reports;
    expect(b).toEqual(a);
  });

  it('works in realtime mode, against the host clock', async () => {
    const m = makeMachine(timerGuest(200_000), { emulator: { time: 'realtime' } }); // 20 ms
    const started = Date.now();
    const { reports } = await runCollecting(m.vcpus[0]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(reports[0][1] - reports[0][0]).toBeGreaterThanOrEqual(200_000n);
  });

  it('timer ONE_REG: time writes move the VM clock, state ON arms with 1 (KVM quirk), OFF disarms', () => {
    const m = makeMachine('j .', { vcpus: 2 });
    const [v0, v1] = m.vcpus;
    v0.setReg(regId('timer.time'), 5_000_000_000n);
    expect(v1.getReg(regId('timer.time'))).toBeGreaterThanOrEqual(5_000_000_000n);
    expect(v0.getReg(regId('timer.state'))).toBe(0n);
    v0.setReg(regId('timer.compare'), 123n);
    expect(v0.getReg(regId('timer.compare'))).toBe(123n);
    expect(v0.getReg(regId('timer.state'))).toBe(0n);
    v0.setReg(regId('timer.state'), 1n);
    // Deadline 1 is long past: the timer fired at once, disarmed itself and left STIP pending.
    expect(v0.getReg(regId('timer.compare'))).toBe(1n);
    expect(v0.getReg(regId('timer.state'))).toBe(0n);
    expect(v0.getReg(regId('csr.sip')) & 32n).toBe(32n);
  });
});

d('external interrupt', () => {
  it('a wfi with no deadline blocks run() until setExternalInterrupt(true); level semantics', async () => {
    const m = makeMachine(`
      la t0, handler
      csrw stvec, t0
      li t0, 0x200
      csrs sie, t0           # SEIE
      csrsi sstatus, 2
    1:
      wfi
      j 1b
    handler:
      csrr a0, scause
      csrr a1, sip
      ${REPORT}
      csrr a1, sip
      ${REPORT}
      j .
    `);
    const v = m.vcpus[0];
    const run = v.run();
    let settled = false;
    void run.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    v.setExternalInterrupt(true);
    const exit = await run;
    expect(exit).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID });
    if (exit.reason !== 'sbi') throw new Error('unreachable');
    expect(exit.args[0]).toBe((1n << 63n) | 9n); // supervisor external interrupt
    expect(exit.args[1] & 0x200n).toBe(0x200n);
    v.setExternalInterrupt(false);
    v.setSbiReturn(0);
    const second = await v.run();
    if (second.reason !== 'sbi') throw new Error('unreachable');
    expect(second.args[1] & 0x200n).toBe(0n); // the line is a level: lowered, no longer pending
    v.stop();
    expect(await v.run()).toEqual({ reason: 'interrupted' });
  });
});
