/*
 * isa-int: RV64I and M (unprivileged spec ch. 2, 4, 7), Zicsr (ch. 6) and Zifencei (ch. 5).
 * Every expected value is hand-derived from the spec; the comment on each says how.
 * Reports: TAG_FAIL per mismatch, TAG_DONE (passed, failed), then SRST (guest/isa/isa.inc).
 */
	.include "isa.inc"

/* rd = op(a0 = a, a1 = b) */
.macro RR op, a, b, expect
	li a0, \a
	li a1, \b
	\op a2, a0, a1
	CHECK a2, \expect
.endm
/* rd = op(a0 = a, imm) */
.macro RI op, a, imm, expect
	li a0, \a
	\op a2, a0, \imm
	CHECK a2, \expect
.endm
/* a2 = 1 when the branch is taken */
.macro BR op, a, b, taken
	li a0, \a
	li a1, \b
	li a2, 1
	\op a0, a1, 1f
	li a2, 0
1:	CHECK a2, \taken
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START

t_add:
	RR add, 1, 2, 3
	RR add, 0x7fffffffffffffff, 1, 0x8000000000000000	/* wraps, no trap (§2.4) */
	RR add, -1, -1, -2
	RR sub, 0, 1, -1
	RR sub, 0x8000000000000000, 1, 0x7fffffffffffffff
	RI addi, 0, -2048, 0xfffffffffffff800	/* 12-bit immediate sign-extended */
	RI addi, 5, 2047, 2052
	li a0, 5
	li a1, 6
	add x0, a0, a1				/* x0 stays zero (§2.1) */
	CHECK x0, 0
t_addw:	/* W forms: 32-bit result sign-extended to 64 (§4.2) */
	RR addw, 0x7fffffff, 1, 0xffffffff80000000
	RR addw, 0xffffffff, 1, 0
	RR addw, 0x123456789, 0, 0x23456789
	RR subw, 0, 1, -1
	RR subw, 0xffffffff80000000, 1, 0x7fffffff
	RI addiw, 0x7fffffff, 1, 0xffffffff80000000
	RI addiw, 0xffffffff, 0, -1			/* sext.w */
	RI addiw, 0x100000000, -1, -1
t_shift: /* shift amounts: low 6 bits (RV64), low 5 bits for W forms */
	RR sll, 1, 63, 0x8000000000000000
	RR sll, 1, 64, 1
	RR sll, 1, 65, 2
	RR srl, 0x8000000000000000, 63, 1
	RR srl, -1, 1, 0x7fffffffffffffff
	RR sra, 0x8000000000000000, 63, -1
	RR sra, 0x8000000000000000, 1, 0xc000000000000000
	RR sra, 0x4000000000000000, 62, 1
	RI slli, 1, 63, 0x8000000000000000
	RI srli, -1, 63, 1
	RI srai, 0x8000000000000000, 63, -1
	RI srai, 0x7000000000000000, 60, 7
	RR sllw, 1, 31, 0xffffffff80000000
	RR sllw, 1, 32, 1
	RR sllw, 0xffffffff00000003, 1, 6
	RR srlw, 0xffffffff80000000, 31, 1
	RR srlw, 0x80000000, 0, 0xffffffff80000000	/* shift by 0 still sign-extends bit 31 */
	RR srlw, 0xffffffffffffffff, 4, 0x0fffffff
	RR sraw, 0x80000000, 31, -1
	RR sraw, 0xabcd00007fffffff, 4, 0x07ffffff	/* upper half ignored */
	RR sraw, 0x80000000, 33, 0xffffffffc0000000	/* 33 & 31 = 1 */
	RI slliw, 1, 31, 0xffffffff80000000
	RI slliw, 0x12345678, 4, 0x23456780
	RI srliw, 0x80000000, 31, 1
	RI srliw, 0x80000000, 0, 0xffffffff80000000
	RI sraiw, 0x80000000, 31, -1
	RI sraiw, 0x80000000, 4, 0xfffffffff8000000
t_cmp:
	RR slt, -1, 1, 1
	RR slt, 1, -1, 0
	RR slt, 3, 3, 0
	RR sltu, -1, 1, 0
	RR sltu, 1, -1, 1
	RR sltu, 0, 0, 0
	RI slti, -1, 0, 1
	RI slti, 0, -1, 0
	RI sltiu, 5, -1, 1			/* imm sign-extended, then compared unsigned */
	RI sltiu, 0, 1, 1			/* seqz */
	RI sltiu, 1, 1, 0
t_logic:
	RR xor, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
	RR or,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0
	RR and, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00
	RI xori, 0xff, -1, 0xffffffffffffff00		/* not */
	RI ori, 0xff, -2048, 0xfffffffffffff8ff
	RI andi, 0xffffffffffffffff, -2048, 0xfffffffffffff800
	RI andi, 0x1234, 0x0f, 4
t_lui:
	lui a0, 0x80000				/* 20-bit imm << 12, sign-extended on RV64 (§4.2.1) */
	CHECK a0, 0xffffffff80000000
	lui a0, 0x7ffff
	CHECK a0, 0x7ffff000
1:	auipc a0, 0
	la a1, 1b
	CHECK_REG a0, a1
2:	auipc a0, 1
	la a1, 2b
	li a2, 0x1000
	add a1, a1, a2
	CHECK_REG a0, a1
2:	auipc a0, 0x80000			/* offset sign-extended: pc - 2^31 */
	la a1, 2b
	li a2, 0xffffffff80000000
	add a1, a1, a2
	CHECK_REG a0, a1
t_jump:
	jal a0, 1f
3:	nop
1:	la a1, 3b				/* link = pc + 4 */
	CHECK_REG a0, a1
	la a0, 4f + 1				/* jalr clears bit 0 of the target (§2.5.1) */
	li a2, 0
	jalr a1, 0(a0)
5:	li a2, 99				/* skipped; the link points here */
	j 6f
4:	li a2, 7
	la a3, 5b
	CHECK_REG a1, a3
6:	CHECK a2, 7
	la a0, 7f - 8
	jalr a0, 8(a0)				/* rd == rs1: the target uses the old value */
8:	li a1, 0
	j 9f
7:	li a1, 1
9:	CHECK a1, 1
	la a2, 8b
	CHECK_REG a0, a2
t_branch:
	BR beq, 5, 5, 1
	BR beq, 5, 6, 0
	BR bne, 5, 6, 1
	BR bne, -1, -1, 0
	BR blt, -1, 1, 1
	BR blt, 1, -1, 0
	BR blt, 1, 1, 0
	BR bge, 1, -1, 1
	BR bge, 1, 1, 1
	BR bge, -1, 1, 0
	BR bltu, 1, -1, 1
	BR bltu, -1, 1, 0
	BR bgeu, -1, 1, 1
	BR bgeu, 1, -1, 0
	BR bgeu, 0, 0, 1
t_load:	/* mem: bytes 81 82 .. 88, then 08 07 .. 01 (little endian, §2.6) */
	la s0, mem
	lb a0, 0(s0)
	CHECK a0, 0xffffffffffffff81
	lbu a0, 0(s0)
	CHECK a0, 0x81
	lb a0, 7(s0)
	CHECK a0, 0xffffffffffffff88
	lh a0, 0(s0)
	CHECK a0, 0xffffffffffff8281
	lhu a0, 0(s0)
	CHECK a0, 0x8281
	lw a0, 0(s0)
	CHECK a0, 0xffffffff84838281
	lwu a0, 0(s0)
	CHECK a0, 0x84838281
	ld a0, 0(s0)
	CHECK a0, 0x8887868584838281
	lh a0, 8(s0)
	CHECK a0, 0x0708
	lw a0, 8(s0)
	CHECK a0, 0x05060708
	ld a0, 8(s0)
	CHECK a0, 0x0102030405060708
	addi s1, s0, 8
	lw a0, -4(s1)				/* negative offset */
	CHECK a0, 0xffffffff88878685
	lb a0, 8(s0)
	CHECK a0, 8
t_store:
	la s0, scratch
	li a1, -1
	sd a1, 0(s0)
	li a0, 0x12345678
	sb a0, 1(s0)
	ld a2, 0(s0)
	CHECK a2, 0xffffffffffff78ff
	sd a1, 0(s0)
	li a0, 0x1234abcd
	sh a0, 2(s0)
	ld a2, 0(s0)
	CHECK a2, 0xffffffffabcdffff
	sd a1, 0(s0)
	li a0, 0x9911223344
	sw a0, 4(s0)
	ld a2, 0(s0)
	CHECK a2, 0x11223344ffffffff
	li a0, 0x0123456789abcdef
	sd a0, 0(s0)
	ld a2, 0(s0)
	CHECK a2, 0x0123456789abcdef
	fence
	fence rw, rw
	fence.tso
t_mul:	/* M extension (ch. 7) */
	RR mul, 3, -7, -21
	RR mul, 0x100000000, 0x100000000, 0		/* low 64 bits of 2^64 */
	RR mul, 0x8000000000000000, -1, 0x8000000000000000
	RR mulh, 0x8000000000000000, 0x8000000000000000, 0x4000000000000000	/* 2^126 */
	RR mulh, -1, -1, 0				/* 1 */
	RR mulh, -1, 1, -1				/* -1: high half all ones */
	RR mulh, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x3fffffffffffffff	/* 2^126 - 2^64 + 1 */
	RR mulhu, -1, -1, 0xfffffffffffffffe		/* (2^64-1)^2 = 2^128 - 2^65 + 1 */
	RR mulhu, 2, 0x8000000000000000, 1		/* 2^64 */
	RR mulhsu, -1, -1, -1				/* -1 * (2^64-1) = -2^64 + 1 */
	RR mulhsu, 2, 0x8000000000000000, 1		/* 2 * 2^63 */
	RR mulhsu, -2, 0x8000000000000000, -1		/* -2^64 */
	RR mulhsu, 0x8000000000000000, -1, 0x8000000000000000	/* -2^63*(2^64-1) = -2^127 + 2^63 */
	RR mulw, 0x7fffffff, 2, -2			/* 0xfffffffe sign-extended */
	RR mulw, 0x100000003, 0x100000005, 15		/* upper halves ignored */
t_div:	/* division rounds toward zero; by zero and overflow per Table 7.1 */
	RR div, -7, 2, -3
	RR rem, -7, 2, -1
	RR div, 7, -2, -3
	RR rem, 7, -2, 1
	RR div, 5, 0, -1
	RR rem, 5, 0, 5
	RR divu, 5, 0, 0xffffffffffffffff
	RR remu, 5, 0, 5
	RR div, 0x8000000000000000, -1, 0x8000000000000000
	RR rem, 0x8000000000000000, -1, 0
	RR divu, -1, 2, 0x7fffffffffffffff
	RR remu, -1, 2, 1
	RR divw, 0x12345678fffffff9, 2, -3			/* low word -7, upper half ignored */
	RR divw, 0x80000000, -1, 0xffffffff80000000
	RR remw, 0x80000000, -1, 0
	RR divw, -7, 2, -3
	RR remw, -7, 2, -1
	RR divw, 7, 0, -1
	RR remw, 0x80000007, 0, 0xffffffff80000007	/* dividend, sign-extended from 32 */
	RR divuw, 7, 0, -1				/* 2^32-1 sign-extended */
	RR remuw, 0x80000000, 0, 0xffffffff80000000
	RR divuw, 0xfffffffe, 1, 0xfffffffffffffffe
	RR divuw, 0xffffffff, 2, 0x7fffffff
	RR remuw, 0xffffffff, 2, 1
t_csr:	/* Zicsr (ch. 6) on sscratch, fully writable */
	li a1, 0x1234
	csrw sscratch, a1
	li a1, 0x5678
	csrrw a0, sscratch, a1
	CHECK a0, 0x1234
	li a1, 0xf0
	csrrs a0, sscratch, a1
	CHECK a0, 0x5678
	csrr a0, sscratch
	CHECK a0, 0x56f8
	li a1, 0x0f8
	csrrc a0, sscratch, a1
	CHECK a0, 0x56f8
	csrr a0, sscratch
	CHECK a0, 0x5600
	csrrwi a0, sscratch, 0x1f
	CHECK a0, 0x5600
	csrrci a0, sscratch, 0x10
	CHECK a0, 0x1f
	csrrsi a0, sscratch, 0x3
	CHECK a0, 0x0f
	csrrci a0, sscratch, 1
	CHECK a0, 0x0f
	csrr a0, sscratch
	CHECK a0, 0x0e
	csrrs a0, sscratch, x0				/* no write */
	CHECK a0, 0x0e
t_csr_x0: /* rs1 = x0 / uimm = 0: csrrs/csrrc do not write, so a read-only CSR does not trap
	   (§6.1); a register that holds 0 still means a write attempt -> illegal instruction */
	TAKE_TRAP a0, a1
	csrrs a0, time, x0
	csrrc a0, time, x0
	csrrsi a0, time, 0
	csrrci a0, time, 0
	TAKE_TRAP a0, a1
	CHECK a0, -1					/* no trap */
	li a2, 0
insn_csrrs_ro:
	csrrs a0, time, a2
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0xc0162573		/* stval = the instruction bits (priv §10.1.10): 0xc01<<20 | 12<<15 | 2<<12 | 10<<7 | 0x73 */
	la a2, insn_csrrs_ro
	la a3, trap_epc
	ld a3, 0(a3)
	CHECK_REG a3, a2
	li a2, 5
	csrrw x0, time, a2
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
t_fence_i: /* Zifencei (ch. 5): a store to code is seen by fetches after fence.i */
	li s2, 0
	la s0, smc_slot
	li s1, 2
	jal ra, smc_slot
	CHECK a0, 1
	li a1, 0x00200513				/* addi a0, x0, 2 */
	sw a1, 0(s0)
	fence.i
	jal ra, smc_slot
	CHECK a0, 2
	li a1, 0x7ff00513				/* addi a0, x0, 2047 */
	sw a1, 0(s0)
	fence.i
	jal ra, smc_slot
	CHECK a0, 2047

	ISA_DONE

	.balign 4
smc_slot:
	addi a0, x0, 1
	ret

	ISA_RUNTIME

	.section .data
	.balign 8
mem:	.byte 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88
	.byte 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01
scratch: .dword 0
