/**
 * Decoded code pages behind the fetch TLB after fence.i / flushCode() (Zifencei; hart.ts header):
 * a page keeps its decoded instructions only while its bytes are exactly those they were decoded
 * from (a native compare where Node has one), and a page with nothing decoded just starts over.
 */
import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine } from './cpu-harness.js';

/** `func` sits in the last 8 bytes of the first page, returning through the second page. */
const PROGRAM = `
  .option norvc
  jal ra, func
  ecall
  .org 4088
func:
  li a0, 1
  addi a0, a0, 0
  ret
`;

describe('decoded code pages after flushCode()', () => {
  it('a change in the last byte of a decoded page is seen after flushCode()', () => {
    const { hart, ram } = machine(PROGRAM);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(1n);
    // Byte 4095 is the top of "addi a0, a0, 0": imm 0 -> 0x100 (written by the host, as DMA would).
    ram.bytes[4095] = 0x10;
    hart.flushCode();
    hart.pc = BigInt(BASE);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(257n);
  });

  it('an unchanged page still runs correctly after many flushCode() calls', () => {
    const { hart } = machine(PROGRAM);
    for (let k = 0; k < 50; k++) {
      hart.flushCode();
      hart.pc = BigInt(BASE);
      expect(hart.run(100)).toBe(StopReason.EcallS);
      expect(hart.getX(R.a0)).toBe(1n);
    }
  });

  it('a page whose decoded copy was dropped, then rewritten from outside, runs the new bytes', () => {
    // The hart's own store drops page 2's decoded code (it holds "ret" at 4096..); the host then
    // rewrites it to "li a0, 9; ret" while nothing of it is decoded.
    const { hart, ram } = machine(`
      .option norvc
      jal ra, far
      li t0, ${BASE + 4096}
      sw zero, 0(t0)
      ecall
      .org 4096
    far:
      ret
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    ram.view.setUint32(4096, 0x00900513, true); // li a0, 9
    ram.view.setUint32(4100, 0x00008067, true); // ret
    hart.flushCode();
    hart.pc = BigInt(BASE);
    hart.setX(R.a0, 0n);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(9n);
  });
});

describe('forgetting least recently used code pages (Hart.codePageLimit)', () => {
  /** addi a0, a0, k */
  const addA0 = (k: number): number => ((k << 20) | (10 << 15) | (10 << 7) | 0x13) >>> 0;
  const ADD2 = addA0(2), ADD3 = addA0(3), RET = 0x00008067;
  const PAGES = 100;
  /** What one pass over the pages adds to a0: 1 + 2 + ... + PAGES. */
  const SUM = (PAGES * (PAGES + 1)) / 2;

  /** Calls a one-instruction function on each of PAGES pages after the first (page k: a0 += k),
   * with `between` after every call; `again` rewrites the first function twice, calling it after
   * each store (a0 += 2, then += 3). */
  function pagesMachine(between: string) {
    const m = machine(`
      .option norvc
      li s0, ${BASE + 4096}
      li s1, ${PAGES}
      li a0, 0
    1: jalr s0
      ${between}
      li t0, 4096
      add s0, s0, t0
      addi s1, s1, -1
      bnez s1, 1b
      ecall
    again:
      li t0, ${BASE + 4096}
      li t1, ${ADD2}
      sw t1, 0(t0)
      jalr t0
      li t1, ${ADD3}
      sw t1, 0(t0)
      jalr t0
      ecall
    `, { size: (PAGES + 2) * 4096 });
    for (let k = 1; k <= PAGES; k++) {
      m.ram.view.setUint32(k * 4096, addA0(k), true);
      m.ram.view.setUint32(k * 4096 + 4, RET, true);
    }
    m.hart.codePageLimit = 64;
    return m;
  }

  it('holds at most the limit when old pages leave the TLB; forgotten pages run right when entered again', () => {
    // Past 64 pages, new pages reuse forgotten pages' arrays: each must decode its own function.
    const { hart } = pagesMachine('sfence.vma');
    expect(hart.run(100_000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(BigInt(SUM));
    expect(hart.codePageCount).toBeLessThanOrEqual(64);
    // The first function's page was forgotten: the stores rewrite it and each call sees them.
    hart.pc += 4n;
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(BigInt(SUM + 2 + 3));
  });

  it('never forgets a page the fetch TLB still maps (its stores must keep invalidating it)', () => {
    const { hart } = pagesMachine('nop');
    expect(hart.run(100_000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(BigInt(SUM));
    expect(hart.codePageCount).toBeGreaterThan(64); // every page is still in the fetch TLB
    hart.pc += 4n;
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(BigInt(SUM + 2 + 3));
  });
});
