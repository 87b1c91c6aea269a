/*
 * isa-amo: the A extension (unprivileged spec ch. 8 "A" Standard Extension for Atomic
 * Instructions, RV64 additions §8.4): LR/SC success and failure, and every AMO in .w and .d.
 *   - AMO*.W / LR.W return the old 32-bit word sign-extended, use only the low 32 bits of rs2,
 *     and leave the neighbouring word untouched;
 *   - AMOMIN/MAX compare signed, AMOMINU/MAXU unsigned, at the operation's width;
 *   - an SC succeeds (rd = 0) only with a valid reservation on its address; any SC invalidates
 *     the reservation, so a second SC fails (rd != 0) and writes nothing (§8.2).
 */
	.include "isa.inc"

/* AMO op, width(w|d), memory initial (dword), rs2, expected rd, expected memory (dword) */
.macro AMO op, init, src, rd, mem
	li a0, \init
	sd a0, 0(s0)
	li a1, \src
	\op a2, a1, (s0)
	CHECK a2, \rd
	ld a3, 0(s0)
	CHECK a3, \mem
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START
	la s0, slot

t_amo_w: /* the upper word 0xaaaaaaaa must survive every .w operation */
	AMO amoswap.w, 0xaaaaaaaa80000000, 0x0000000112345678, 0xffffffff80000000, 0xaaaaaaaa12345678
	AMO amoadd.w, 0xaaaaaaaa7fffffff, 0xffffffff00000001, 0x7fffffff, 0xaaaaaaaa80000000
	AMO amoadd.w, 0xaaaaaaaaffffffff, 1, -1, 0xaaaaaaaa00000000	/* carry does not leave the word */
	AMO amoxor.w, 0xaaaaaaaaff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xaaaaaaaaf0f0f0f0
	AMO amoand.w, 0xaaaaaaaaff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xaaaaaaaa0f000f00
	AMO amoor.w, 0xaaaaaaaaff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xaaaaaaaafff0fff0
	AMO amomin.w, 0xaaaaaaaa80000000, 0xffffffff00000001, 0xffffffff80000000, 0xaaaaaaaa80000000
	AMO amomin.w, 0xaaaaaaaa00000005, 0x00000000fffffffe, 5, 0xaaaaaaaafffffffe	/* -2 < 5 */
	AMO amomax.w, 0xaaaaaaaa80000000, 1, 0xffffffff80000000, 0xaaaaaaaa00000001
	AMO amomax.w, 0xaaaaaaaa00000005, 0x00000000fffffffe, 5, 0xaaaaaaaa00000005
	AMO amominu.w, 0xaaaaaaaa80000000, 0xffffffff00000001, 0xffffffff80000000, 0xaaaaaaaa00000001
	AMO amominu.w, 0xaaaaaaaa00000005, 0xfffffffe, 5, 0xaaaaaaaa00000005
	AMO amomaxu.w, 0xaaaaaaaa80000000, 1, 0xffffffff80000000, 0xaaaaaaaa80000000
	AMO amomaxu.w, 0xaaaaaaaa00000005, 0xfffffffe, 5, 0xaaaaaaaafffffffe
	AMO amoadd.w.aq, 0xaaaaaaaa00000001, 2, 1, 0xaaaaaaaa00000003
	AMO amoadd.w.rl, 0xaaaaaaaa00000001, 2, 1, 0xaaaaaaaa00000003
	AMO amoadd.w.aqrl, 0xaaaaaaaa00000001, 2, 1, 0xaaaaaaaa00000003
t_amo_w_hi: /* .w on the upper word of the dword (address + 4) */
	li a0, 0x80000000aaaaaaaa
	sd a0, 0(s0)
	li a1, 1
	addi s1, s0, 4
	amoadd.w a2, a1, (s1)
	CHECK a2, 0xffffffff80000000
	ld a3, 0(s0)
	CHECK a3, 0x80000001aaaaaaaa
t_amo_d:
	AMO amoswap.d, 0x8000000000000000, 0x0123456789abcdef, 0x8000000000000000, 0x0123456789abcdef
	AMO amoadd.d, 0x7fffffffffffffff, 1, 0x7fffffffffffffff, 0x8000000000000000
	AMO amoxor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xf0f0f0f0f0f0f0f0
	AMO amoand.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0x0f000f000f000f00
	AMO amoor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xfff0fff0fff0fff0
	AMO amomin.d, 0x8000000000000000, 1, 0x8000000000000000, 0x8000000000000000
	AMO amomin.d, 5, -2, 5, -2
	AMO amomax.d, 0x8000000000000000, 1, 0x8000000000000000, 1
	AMO amomax.d, 5, -2, 5, 5
	AMO amominu.d, 0x8000000000000000, 1, 0x8000000000000000, 1
	AMO amominu.d, 5, -2, 5, 5
	AMO amomaxu.d, 0x8000000000000000, 1, 0x8000000000000000, 0x8000000000000000
	AMO amomaxu.d, 5, -2, 5, -2
	AMO amoswap.d.aqrl, 1, 2, 1, 2
	li a0, 7				/* rd = x0: the memory is still written */
	sd a0, 0(s0)
	li a1, 9
	amoswap.d x0, a1, (s0)
	ld a3, 0(s0)
	CHECK a3, 9
t_lrsc:
	li a0, 0x1111111111111111
	sd a0, 0(s0)
	lr.d a1, (s0)
	CHECK a1, 0x1111111111111111
	li a2, 0x2222222222222222
	sc.d a3, a2, (s0)
	CHECK a3, 0				/* success */
	ld a4, 0(s0)
	CHECK a4, 0x2222222222222222
	li a2, 0x3333333333333333
	sc.d a3, a2, (s0)			/* reservation consumed by the first SC */
	snez a3, a3
	CHECK a3, 1
	ld a4, 0(s0)
	CHECK a4, 0x2222222222222222		/* a failed SC writes nothing */
	lr.d a1, (s0)				/* SC to another address (4 KiB away): fails */
	la s1, far_slot
	li a2, 0x4444
	sc.d a3, a2, (s1)
	snez a3, a3
	CHECK a3, 1
	ld a4, 0(s1)
	CHECK a4, 0
	li a0, 0x5555555580000000		/* lr.w sign-extends; sc.w writes one word */
	sd a0, 0(s0)
	lr.w a1, (s0)
	CHECK a1, 0xffffffff80000000
	li a2, 0xffffffff00000007
	sc.w a3, a2, (s0)
	CHECK a3, 0
	ld a4, 0(s0)
	CHECK a4, 0x5555555500000007
	lr.w.aq a1, (s0)
	CHECK a1, 7
	li a2, 8
	sc.w.rl a3, a2, (s0)
	CHECK a3, 0
	lw a4, 0(s0)
	CHECK a4, 8
	lr.d.aqrl a1, (s0)
	sc.d.aqrl a3, a2, (s0)
	CHECK a3, 0
	sc.w a3, a2, (s0)			/* no reservation */
	snez a3, a3
	CHECK a3, 1

	ISA_DONE
	ISA_RUNTIME

	.section .data
	.balign 4096
slot:	.dword 0
	.balign 4096
far_slot: .dword 0
