/*
 * isa-rvc: every RV64C instruction (unprivileged spec ch. 16 "C" Standard Extension; Table 16.x
 * expansions): each compressed form must behave as its 32-bit expansion, including the
 * sign-extended immediates (c.li, c.lui, c.addi16sp, c.andi), the W forms, c.jalr's link of
 * pc + 2 and the 2-byte step over c.ebreak. The compressed instructions are written explicitly
 * inside `.option rvc` regions; the check code around them stays uncompressed.
 */
	.include "isa.inc"

.macro RVC insn:vararg
	.option push
	.option rvc
	\insn
	.option pop
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START
	la sp, stack_top

t_c0:	/* quadrant 0: c.addi4spn (nzuimm scaled by 4), c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd (x8-x15) */
	RVC c.addi4spn a0, sp, 1020
	sub a0, a0, sp
	CHECK a0, 1020
	la s0, data
	RVC c.lw a0, 0(s0)
	CHECK a0, 0xffffffff89abcdef		/* data = 0x0123456789abcdef: low word sign-extended */
	RVC c.lw a1, 4(s0)
	CHECK a1, 0x01234567
	RVC c.ld a2, 0(s0)
	CHECK a2, 0x0123456789abcdef
	li a3, 0x1122334455667788
	RVC c.sd a3, 8(s0)
	ld a4, 8(s0)
	CHECK a4, 0x1122334455667788
	li a3, 0xaabbccdd
	RVC c.sw a3, 12(s0)
	ld a4, 8(s0)
	CHECK a4, 0xaabbccdd55667788
	RVC c.fld fa0, 0(s0)
	fmv.x.d a0, fa0
	CHECK a0, 0x0123456789abcdef
	RVC c.fsd fa0, 16(s0)
	ld a1, 16(s0)
	CHECK a1, 0x0123456789abcdef
t_c1:	/* quadrant 1 */
	li a0, 77
	RVC c.nop
	CHECK a0, 77
	RVC c.li a0, -32
	CHECK a0, -32
	RVC c.li a0, 31
	CHECK a0, 31
	RVC c.addi a0, -32
	CHECK a0, -1
	li a0, 0x7fffffff
	RVC c.addiw a0, 1
	CHECK a0, 0xffffffff80000000
	li a0, 0x1ffffffff
	RVC c.addiw a0, 0			/* sext.w */
	CHECK a0, -1
	mv s1, sp
	RVC c.addi16sp sp, -512
	sub a0, s1, sp
	CHECK a0, 512
	RVC c.addi16sp sp, 496
	sub a0, sp, s1
	CHECK a0, -16
	mv sp, s1
	RVC c.lui a0, 1
	CHECK a0, 0x1000
	RVC c.lui a0, 31
	CHECK a0, 0x1f000
	RVC c.lui a0, 0xfffff			/* nzimm[17:12] = -1, sign-extended */
	CHECK a0, 0xfffffffffffff000
	RVC c.lui a0, 0xfffe0			/* -32 << 12 */
	CHECK a0, 0xfffffffffffe0000
	li a0, 0x8000000000000000
	RVC c.srli a0, 63
	CHECK a0, 1
	li a0, 0x8000000000000000
	RVC c.srai a0, 63
	CHECK a0, -1
	li a0, 0x8000000000000000
	RVC c.srai a0, 1
	CHECK a0, 0xc000000000000000
	li a0, 0x7f
	RVC c.andi a0, -32			/* imm sign-extended: 0x...ffe0 */
	CHECK a0, 0x60
	li a0, -1
	RVC c.andi a0, 31
	CHECK a0, 31
	li a0, 10
	li a1, 3
	RVC c.sub a0, a1
	CHECK a0, 7
	li a0, 0xff00
	li a1, 0x0ff0
	RVC c.xor a0, a1
	CHECK a0, 0xf0f0
	li a0, 0xff00
	RVC c.or a0, a1
	CHECK a0, 0xfff0
	li a0, 0xff00
	RVC c.and a0, a1
	CHECK a0, 0x0f00
	li a0, 0x80000000
	li a1, 1
	RVC c.subw a0, a1
	CHECK a0, 0x7fffffff
	li a0, 0x7fffffff
	RVC c.addw a0, a1
	CHECK a0, 0xffffffff80000000
	li a2, 0
	RVC c.j 1f
	li a2, 1
1:	CHECK a2, 0
	li a0, 0
	li a2, 0
	RVC c.beqz a0, 1f
	li a2, 1
1:	CHECK a2, 0
	li a0, 5
	li a2, 0
	RVC c.beqz a0, 1f
	li a2, 1
1:	CHECK a2, 1
	li a0, -1
	li a2, 0
	RVC c.bnez a0, 1f
	li a2, 1
1:	CHECK a2, 0
	li a0, 0
	li a2, 0
	RVC c.bnez a0, 1f
	li a2, 1
1:	CHECK a2, 1
t_c2:	/* quadrant 2 */
	li a0, 1
	RVC c.slli a0, 63
	CHECK a0, 0x8000000000000000
	li a0, 3
	RVC c.slli a0, 4
	CHECK a0, 0x30
	li t0, 0xfedcba9876543210
	sd t0, 8(sp)
	RVC c.ldsp a0, 8(sp)
	CHECK a0, 0xfedcba9876543210
	RVC c.lwsp a1, 8(sp)
	CHECK a1, 0x76543210
	RVC c.lwsp a1, 12(sp)
	CHECK a1, 0xfffffffffedcba98
	RVC c.fldsp fa1, 8(sp)
	fmv.x.d a2, fa1
	CHECK a2, 0xfedcba9876543210
	RVC c.fsdsp fa1, 16(sp)
	ld a3, 16(sp)
	CHECK a3, 0xfedcba9876543210
	li a4, 0x1111222233334444
	RVC c.sdsp a4, 24(sp)
	ld a5, 24(sp)
	CHECK a5, 0x1111222233334444
	li a4, 0x99998888
	RVC c.swsp a4, 24(sp)
	ld a5, 24(sp)
	CHECK a5, 0x1111222299998888
	li a0, 0x1234
	RVC c.mv a1, a0
	CHECK a1, 0x1234
	li a1, 0x1000
	RVC c.add a1, a0
	CHECK a1, 0x2234
	la a0, 2f
	li a2, 0
	RVC c.jr a0
	li a2, 1
2:	CHECK a2, 0
	la a0, 3f
	li a2, 0
	RVC c.jalr a0
4:	li a2, 1				/* c.jalr links here: pc + 2 */
	j 5f
3:	la a3, 4b
	CHECK_REG ra, a3
5:	CHECK a2, 0
t_c_traps:
	TAKE_TRAP a0, a1
insn_c_ebreak:
	RVC c.ebreak				/* cause 3; the handler steps 2 bytes */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_BREAKPOINT
	la a2, trap_epc
	ld a2, 0(a2)
	la a3, insn_c_ebreak
	CHECK_REG a2, a3
insn_c_zero:
	.half 0x0000				/* defined illegal (§16.x: all-zero 16-bit pattern) */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0				/* stval = instruction bits = 0 */
	la a2, trap_epc
	ld a2, 0(a2)
	la a3, insn_c_zero
	CHECK_REG a2, a3

	ISA_DONE
	ISA_RUNTIME

	.section .data
	.balign 8
data:	.dword 0x0123456789abcdef, 0, 0, 0
	.balign 16
stack:	.fill 128, 8, 0
stack_top:
	.fill 128, 8, 0
