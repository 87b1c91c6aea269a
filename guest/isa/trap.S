/*
 * isa-trap: synchronous traps and interrupts as the guest's S-mode sees them (privileged spec
 * §10.1.9 scause, §10.1.10 stval, §10.1.2 stvec, §3.3.x xRET; SBI §6 TIME, §7 IPI).
 *   - illegal instructions (stval = the instruction bits), ebreak (cause 3);
 *   - from U-mode: ecall (cause 8), S-mode CSRs, sret and sfence.vma (illegal), rdtime with
 *     scounteren.TM = 0 (illegal);
 *   - misaligned load/store: the spec lets hardware either perform the access or trap
 *     (address-misaligned / access fault with stval = the address, §2.6 unpriv); both pass, a
 *     note says which happened;
 *   - supervisor software interrupt from SBI send_ipi to self: pending but not taken while
 *     sstatus.SIE = 0, taken when enabled (scause = 2^63 | 1);
 *   - supervisor timer interrupt from SBI set_timer (scause = 2^63 | 5); set_timer(-1) clears
 *     STIP (SBI §6.1);
 *   - vectored stvec: interrupts go to base + 4 * cause, exceptions to base.
 * Access faults need a physical address without memory, which under KVM is an MMIO exit, not a
 * fault; the traps conformance test covers that path.
 */
	.include "isa.inc"

	.equ SIP_SSIP, 0x2
	.equ SIP_STIP, 0x20
	.equ NOTE_MISALIGNED_LOAD, 1
	.equ NOTE_MISALIGNED_STORE, 2

/* WAIT_STIP: sie.STIE = 1 with sstatus.SIE = 0, then wfi until sip.STIP (a0 = sip & STIP).
 * SBI §6.1 does not promise that an expired deadline is visible in sip by the time set_timer
 * returns (under KVM without Sstc a host hrtimer raises it a moment later), but wfi resumes once
 * an interrupt enabled in sie is pending, whatever sstatus.SIE says (priv §3.3.3). */
.macro WAIT_STIP
	li t0, SIE_STIE
	csrs sie, t0
	li s1, 1000
1:	csrr a0, sip
	andi a0, a0, SIP_STIP
	bnez a0, 2f
	wfi
	addi s1, s1, -1
	bnez s1, 1b
2:
.endm

/* Run `label` in U-mode (sstatus.SPP = 0, sret); it returns to `back` through a trap. */
.macro ENTER_U label, back
	EXPECT_TRAP \back
	li t0, SSTATUS_SPP
	csrc sstatus, t0
	la t0, \label
	csrw sepc, t0
	sret
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START

t_illegal:
	TAKE_TRAP a0, a1
	EXPECT_TRAP 1f				/* its low half alone is also illegal: skip both */
insn_zero:
	.word 0x00000000			/* all-zero: defined illegal */
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0
	la a2, trap_epc
	ld a2, 0(a2)
	la a3, insn_zero
	CHECK_REG a2, a3
insn_ones:
	.word 0xffffffff			/* all-ones: defined illegal */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0xffffffff
insn_mret:
	mret					/* M-mode instruction in S-mode */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x30200073
insn_mcsr:
	csrr a2, mscratch			/* M-mode CSR */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x34002673			/* 0x340<<20 | 2<<12 | 12<<7 | 0x73 */
t_ebreak:
insn_ebreak:
	ebreak
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_BREAKPOINT
	la a2, trap_epc
	ld a2, 0(a2)
	la a3, insn_ebreak
	CHECK_REG a2, a3
t_user:
	ENTER_U u_ecall, 1f
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ECALL_U
	la a2, trap_epc
	ld a2, 0(a2)
	la a3, u_ecall
	CHECK_REG a2, a3
	csrr a0, sstatus			/* back in S-mode: an S CSR does not trap */
	TAKE_TRAP a0, a1
	CHECK a0, -1
	ENTER_U u_csr, 1f
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x10002573			/* csrr a0, sstatus: 0x100<<20 | 2<<12 | 10<<7 | 0x73 */
	ENTER_U u_sret, 1f
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x10200073
	ENTER_U u_sfence, 1f
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x12000073
	csrw scounteren, zero
	ENTER_U u_rdtime, 1f
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0xc0102573			/* rdtime a0 = csrrs a0, time, x0 */

t_misaligned: /* either performed (value checked) or trapped with stval = the address */
	la s0, mis_data
	TAKE_TRAP a0, a1
	EXPECT_TRAP 1f
	li a2, -1
	ld a2, 1(s0)
1:	TAKE_TRAP a0, a1
	li t0, -1
	bne a0, t0, 2f
	CHECK a2, 0x0908070605040302		/* bytes 2..9, little endian */
	li a0, 0
	NOTE NOTE_MISALIGNED_LOAD, a0		/* 0 = performed */
	ALTERNATIVE 1
	j 3f
2:	addi a3, s0, 1			/* one check either way: stval = the address and */
	xor a1, a1, a3				/* cause = 4 (misaligned) or 5 (access fault) */
	addi a0, a0, -CAUSE_LOAD_MISALIGNED
	srli a0, a0, 1
	or a0, a0, a1
	CHECK a0, 0
	li a0, 1
	NOTE NOTE_MISALIGNED_LOAD, a0		/* 1 = trapped */
	ALTERNATIVE 1
3:	EXPECT_TRAP 1f
	li a2, 0x1122334455667788
	sd a2, 17(s0)
1:	TAKE_TRAP a0, a1
	la t0, trap_resume
	sd zero, 0(t0)
	li t0, -1
	bne a0, t0, 2f
	ld a2, 16(s0)
	CHECK a2, 0x2233445566778800
	li a0, 0
	NOTE NOTE_MISALIGNED_STORE, a0
	ALTERNATIVE 1
	j 3f
2:	addi a3, s0, 17			/* one check either way: stval = the address and */
	xor a1, a1, a3				/* cause = 6 (misaligned) or 7 (access fault) */
	addi a0, a0, -CAUSE_STORE_MISALIGNED
	srli a0, a0, 1
	or a0, a0, a1
	CHECK a0, 0
	li a0, 1
	NOTE NOTE_MISALIGNED_STORE, a0
	ALTERNATIVE 1
3:

t_ipi:	/* SBI IPI to self with interrupts off: pending only */
	csrci sstatus, SSTATUS_SIE
	li t0, SIE_SSIE
	csrs sie, t0
	li a0, 1
	li a1, 0
	SBI_CALL SBI_EXT_IPI, 0
	CHECK a0, 0
	csrr a0, sip
	andi a0, a0, SIP_SSIP
	CHECK a0, SIP_SSIP
	TAKE_TRAP a0, a1
	CHECK a0, -1				/* not taken */
	csrsi sstatus, SSTATUS_SIE		/* taken right after this */
	nop
	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 1
	csrr a0, sip
	andi a0, a0, SIP_SSIP
	CHECK a0, 0				/* the handler cleared it */
	/* sip.SSIP is writable by S-mode (§10.1.3): setting it raises the same interrupt */
	li t0, SIE_SSIE
	csrs sie, t0
	csrs sip, t0
	csrsi sstatus, SSTATUS_SIE
	nop
	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 1
t_timer: /* set_timer(0) is in the past: STIP becomes pending; set_timer(-1) clears it (SBI §6.1) */
	li a0, 0
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	CHECK a0, 0
	WAIT_STIP
t_timer_stip_visible:			/* own label: the KVM rig's QEMU fails this one check */
	CHECK a0, SIP_STIP
t_timer_taken:
	csrsi sstatus, SSTATUS_SIE
	nop
	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 5
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	csrr a0, sip
	andi a0, a0, SIP_STIP
	CHECK a0, 0
	/* a deadline in the near future: wfi until it fires */
	rdtime a0
	addi a0, a0, 100
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	li t0, SIE_STIE
	csrs sie, t0
	li s1, 100000
	csrsi sstatus, SSTATUS_SIE
1:	la t0, trap_cause
	ld a0, 0(t0)
	li t1, -1
	bne a0, t1, 1f				/* a trap was recorded */
	wfi
	addi s1, s1, -1
	bnez s1, 1b
1:	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 5
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
t_vectored: /* stvec.MODE = 1: interrupt n at base + 4n (§10.1.2) */
	la t0, vec_table
	ori t0, t0, 1
	csrw stvec, t0
	csrr a0, stvec
	andi a0, a0, 3
	CHECK a0, 1
	li a0, 1
	li a1, 0
	SBI_CALL SBI_EXT_IPI, 0
	li t0, SIE_SSIE
	csrs sie, t0
	csrsi sstatus, SSTATUS_SIE
	nop
	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 1
	la t0, vec_hits
	ld a0, 8(t0)				/* slot 1 hit */
	snez a0, a0
	CHECK a0, 1
	li a0, 0
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	WAIT_STIP
	csrsi sstatus, SSTATUS_SIE
	nop
	csrci sstatus, SSTATUS_SIE
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_INTERRUPT | 5
	la t0, vec_hits
	ld a0, 40(t0)				/* slot 5 hit */
	snez a0, a0
	CHECK a0, 1
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	ebreak					/* exceptions use the base */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_BREAKPOINT
	la t0, vec_hits
	ld a0, 0(t0)
	snez a0, a0
	CHECK a0, 1
	la t0, isa_trap
	csrw stvec, t0

	ISA_DONE

/* U-mode snippets: each traps back to S-mode; should one not trap, the ecall after it does
 * (and the check sees cause 8 instead of 2). */
	.balign 4
u_ecall:
	ecall
u_csr:
	csrr a0, sstatus
	ecall
u_sret:
	sret
	ecall
u_sfence:
	sfence.vma
	ecall
u_rdtime:
	rdtime a0
	ecall

/* Vector table (single instructions at base + 4n): slot n records that it ran (stores its own
 * address into vec_hits[n]) and continues in the common handler with t0 restored. */
	.balign 256
vec_table:
	j vec_slot_0				/* base + 0: exceptions */
	j vec_slot_1				/* base + 4: supervisor software interrupt */
	.word 0, 0, 0
	j vec_slot_5				/* base + 20: supervisor timer interrupt */
.irp n, 0, 1, 5
vec_slot_\n:
	csrw sscratch, t0
	la t0, vec_hits + 8 * \n
	sd t0, 0(t0)
	csrr t0, sscratch
	j isa_trap
.endr

	ISA_RUNTIME

	.section .data
	.balign 8
mis_data: .byte 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
	.dword 0, 0
vec_hits: .fill 8, 8, 0
