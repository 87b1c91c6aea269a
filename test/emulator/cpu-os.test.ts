import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine } from './cpu-harness.js';

const SCAUSE = 0x142;

/**
 * A miniature kernel in the shape of Linux's boot: starts in Bare mode at the physical load
 * address, builds Sv39 tables (a kernel gigapage at 0xffffffff80000000 plus an identity gigapage
 * for the switch), enables paging, continues at the kernel address, drops to U mode, and
 * demand-maps the user's data page from the store page-fault handler.
 */
const KERNEL = `
  .option norvc
  .equ ROOT, 0x80010000
  .equ L1, 0x80011000
  .equ L0, 0x80012000
  .equ DATA, 0x80020000
  .equ KOFF, 0xffffffff00000000       # kernel VA - PA
_start:
  li t0, ROOT
  li t1, (0x80000000 >> 12 << 10) | 0xcf  # V R W X A D gigapage
  li t5, ROOT + 510*8
  sd t1, 0(t5)                         # 0xffffffff80000000
  sd t1, 2*8(t0)                       # identity 0x80000000 (for the satp switch)
  li t2, L1
  srli t3, t2, 12
  slli t3, t3, 10
  ori t3, t3, 1
  sd t3, 0(t0)                         # VA 0..1G -> L1
  li t2, L0
  srli t3, t2, 12
  slli t3, t3, 10
  ori t3, t3, 1
  li t4, L1
  sd t3, 0(t4)                         # VA 0..2M -> L0
  la t2, user                          # physical address of the user code page
  srli t3, t2, 12
  slli t3, t3, 10
  ori t3, t3, 0x5b                     # V R X U A
  li t4, L0
  sd t3, 1*8(t4)                       # VA 0x1000 -> user code
  li t0, (8 << 60) | (ROOT >> 12)
  csrw satp, t0
  sfence.vma
  la t0, kmain
  li t1, KOFF
  add t0, t0, t1
  jr t0                                # continue at the kernel address
kmain:
  la t0, handler                       # pc-relative: a kernel address now
  csrw stvec, t0
  auipc s0, 0                          # s0 = where the kernel runs
  li s1, 0                             # page faults handled
  li t0, 0x100
  csrc sstatus, t0                     # SPP = U
  li t0, 0x1000
  csrw sepc, t0
  sret
handler:
  csrr t0, scause
  li t1, 15
  beq t0, t1, map
  ecall                                # anything else: stop and let the test look
map:
  addi s1, s1, 1
  li t1, (DATA >> 12 << 10) | 0xd7     # V R W U A D
  li t2, L0 + 2*8
  li t3, KOFF
  add t2, t2, t3                       # the table through the kernel mapping
  sd t1, 0(t2)                         # VA 0x2000 -> DATA
  sfence.vma
  sret                                 # retry the store
  .balign 4096
user:
  li a0, 0x2000
  li a1, 42
  sd a1, 8(a0)                         # faults once, then succeeds
  ld a2, 8(a0)
  ecall
`;

describe('a miniature kernel', () => {
  it('boots into Sv39 at a kernel address, runs U code and demand-maps its data page', () => {
    const { hart, ram } = machine(KERNEL);
    expect(hart.run(10_000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.s0)).toBe(0xffffffff80000000n + (hart.getX(R.s0) & 0xfffn)); // kernel VA
    expect(hart.getCsr(SCAUSE)).toBe(8n); // the user's ecall
    expect(hart.getX(R.s1)).toBe(1n); // one store page fault
    expect(hart.getX(R.a2)).toBe(42n);
    expect(ram.view.getBigUint64(0x20008, true)).toBe(42n);
    expect(hart.mode).toBe(1);
    expect(hart.pc >> 32n).toBe(0xffffffffn); // stopped in the kernel's handler
    void BASE;
  });
});
