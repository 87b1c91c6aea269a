import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine, withHandler } from './cpu-harness.js';
import { Hart } from '../../lib/backend/emulator/cpu/hart.js';
import { assemble } from '../support/rvasm.js';

const SSTATUS = 0x100, SCAUSE = 0x142, STVAL = 0x143;
const FS_INITIAL = 1n << 13n, FS_MASK = 3n << 13n, SD = 1n << 63n;
const DATA = BASE + 0x10000;


describe('floating-point plumbing', () => {
  it('with sstatus.FS = Off, FP instructions and fflags/frm/fcsr are illegal', () => {
    const cases: [string, bigint][] = [
      ['flw f1, 0(sp)', 0x00012087n],
      ['fsd f1, 8(sp)', 0x00113427n],
      ['fadd.d f1, f2, f3', 0x023170d3n],
      ['csrr a0, fcsr', 0x00302573n],
      ['csrwi frm, 1', 0x0020d073n],
      ['frflags a0', 0x00102573n],
      ['.option rvc\n c.fldsp f8, 8(sp)\n .option norvc', 0x2422n],
      ['.option rvc\n c.fsd f9, 16(s0)\n .option norvc', 0xa804n],
    ];
    for (const [insn, bits] of cases) {
      const { hart } = machine(withHandler(insn));
      expect(hart.run(100), insn).toBe(StopReason.EcallS);
      expect(hart.getCsr(SCAUSE), insn).toBe(2n);
      expect(hart.getCsr(STVAL), insn).toBe(bits);
    }
  });

  it('loads and stores move raw bits; flw NaN-boxes; any FP state change makes FS Dirty and sets SD', () => {
    const { hart, ram } = machine(withHandler(`
      li s0, ${DATA}
      csrr s1, sstatus
      fld f1, 0(s0)
      csrr s2, sstatus
      flw f2, 8(s0)
      fsd f1, 16(s0)
      fsw f2, 24(s0)
      fsd f2, 32(s0)
      ecall
    `));
    ram.view.setBigUint64(0x10000, 0x400921fb54442d18n, true);
    ram.view.setUint32(0x10008, 0x3fc00000, true);
    hart.setCsr(SSTATUS, FS_INITIAL);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1) & FS_MASK).toBe(FS_INITIAL);
    expect(hart.getX(R.s1) & SD).toBe(0n);
    expect(hart.getX(R.s2) & FS_MASK).toBe(FS_MASK);
    expect(hart.getX(R.s2) & SD).toBe(SD);
    expect(hart.getF(1)).toBe(0x400921fb54442d18n);
    expect(hart.getF(2)).toBe(0xffffffff3fc00000n);
    expect(ram.view.getBigUint64(0x10010, true)).toBe(0x400921fb54442d18n);
    expect(ram.view.getUint32(0x10018, true)).toBe(0x3fc00000);
    expect(ram.view.getBigUint64(0x10020, true)).toBe(0xffffffff3fc00000n);
  });

  it('fflags/frm/fcsr views of one register', () => {
    const { hart } = machine(withHandler(`
      csrwi frm, 3
      csrr a0, fcsr
      csrwi fflags, 0x1f
      csrr a1, fcsr
      li t0, 0x1ff
      csrw fcsr, t0
      csrr a2, frm
      csrr a3, fflags
      csrr a4, fcsr
      ecall
    `));
    hart.setCsr(SSTATUS, FS_INITIAL);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0x60n);
    expect(hart.getX(R.a1)).toBe(0x7fn);
    expect(hart.getX(R.a2)).toBe(7n);
    expect(hart.getX(R.a3)).toBe(0x1fn);
    expect(hart.getX(R.a4)).toBe(0xffn);
    expect(hart.fcsr).toBe(0xff);
    expect(hart.getCsr(SSTATUS) & FS_MASK).toBe(FS_MASK);
  });

  it('OP-FP goes through the FPU and dirties FS; compressed FP loads/stores work', () => {
    const { hart, ram } = machine(withHandler(`
      li sp, ${DATA}
      mv s0, sp
      .option rvc
      c.fldsp f8, 0(sp)
      c.fld f9, 8(s0)
      .option norvc
      fadd.d f10, f8, f9
      .option rvc
      c.fsdsp f10, 16(sp)
      c.fsd f10, 24(s0)
      .option norvc
      fmv.x.d a0, f10
      ecall
    `));
    ram.view.setFloat64(0x10000, 1.5, true);
    ram.view.setFloat64(0x10008, 2.25, true);
    hart.setCsr(SSTATUS, FS_INITIAL);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(ram.view.getFloat64(0x10010, true)).toBe(3.75);
    expect(ram.view.getFloat64(0x10018, true)).toBe(3.75);
    expect(hart.getX(R.a0)).toBe(0x400e000000000000n);
    expect(hart.getCsr(SSTATUS) & FS_MASK).toBe(FS_MASK);
  });

  it('an FP load outside RAM raises a load access fault (KVM emulates only integer MMIO)', () => {
    const { hart } = machine(withHandler('li s0, 0x10000000\n fld f1, 0(s0)'));
    hart.setCsr(SSTATUS, FS_INITIAL);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(5n);
    expect(hart.getCsr(STVAL)).toBe(0x10000000n);
  });
});

describe('self-modifying code', () => {
  // Patch target: "li a0, 1" is replaced by "li a0, 2" (addi a0, zero, 2 = 0x00200513).
  const program = (sync: string): string => `
    .option norvc
    li s1, 0
  again:
    jal ra, target
    add s1, s1, a0
    bnez s2, done
    li s2, 1
    la t0, target
    li t1, 0x00200513
    sw t1, 0(t0)
    ${sync}
    j again
  done:
    ecall
  target:
    li a0, 1
    ret
  `;

  it('a store over decoded code is seen after fence.i', () => {
    const { hart } = machine(program('fence.i'));
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(3n);
  });

  it('this hart also sees its own store to a decoded page without fence.i (page invalidated)', () => {
    const { hart } = machine(program(''));
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(3n);
  });

  /** A guest that runs `body` (instructions calling `target`, which sets a0 = 1), then ecall, in a
   * loop; and where target's first instruction is, for the host to rewrite. */
  function callsTarget(body: string[]): { src: string; targetOffset: number } {
    const src = ['.option norvc', 'li s1, 0', 'loop:', ...body, 'ecall', 'j loop', 'target:', 'li a0, 1', 'ret'].join('\n');
    return { src, targetOffset: 4 * (1 + body.length + 2) };
  }
  const LI_A0_5 = 0x00500513;

  it('code written from outside is picked up after flushCode(), not before', () => {
    const guest = callsTarget(['jal ra, target', 'add s1, s1, a0']);
    const { hart, ram } = machine(guest.src);
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(1n);
    ram.view.setUint32(guest.targetOffset, LI_A0_5, true); // host write, no hart store
    hart.pc += 4n;
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(2n); // stale decoded copy, as a real hart may keep without fence.i
    hart.flushCode();
    hart.pc += 4n;
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(7n);
  });

  it("code written from outside between runs is seen after the guest's own fence.i, also on pages fence.i already kept in an earlier run", () => {
    // The first run's fence.i checks (and keeps) the page; the host then rewrites target; the
    // second run's fence.i must compare the page again (the hart skips the compare only for pages
    // already compared in the same run).
    const call = ['fence.i', 'jal ra, target', 'add s1, s1, a0'];
    const guest = callsTarget([...call, ...call]);
    const { hart, ram } = machine(guest.src);
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(2n);
    ram.view.setUint32(guest.targetOffset, LI_A0_5, true);
    hart.pc += 4n;
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(12n);
  });

  it("another hart's store over this hart's decoded code is seen after this hart's fence.i", () => {
    // Hart 1 shares hart 0's RAM and stores over the target hart 0 has decoded and run. Hart 1's
    // store path knows nothing of hart 0's decoded pages; hart 0's next run() compares its page
    // at the fence.i (others' stores land only between its runs).
    const call = ['fence.i', 'jal ra, target', 'add s1, s1, a0'];
    const guest = callsTarget(call);
    const { hart, ram } = machine(guest.src);
    const writerAt = 0x8000;
    ram.bytes.set(assemble(`
      li t0, ${BASE + guest.targetOffset}
      li t1, ${LI_A0_5}
      sw t1, 0(t0)
      ecall
    `, BASE + writerAt), writerAt);
    const other = new Hart(1, { readTime: () => 0n });
    other.setRam([ram]);
    other.pc = BigInt(BASE + writerAt);
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(1n);
    expect(other.run(1000)).toBe(StopReason.EcallS);
    expect(ram.view.getUint32(guest.targetOffset, true)).toBe(LI_A0_5);
    hart.pc += 4n;
    expect(hart.run(1000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s1)).toBe(6n);
  });

  it('data stores next to code on the same page do not disturb it', () => {
    const { hart } = machine(`
      .option norvc
      la s0, buf
      li a0, 0
      li t1, 100
    1: sd a0, 0(s0)
      ld a1, 0(s0)
      addi a0, a1, 1
      bne a0, t1, 1b
      ecall
    buf: .dword 0
    `);
    expect(hart.run(10_000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(100n);
  });
});
