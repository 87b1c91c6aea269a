/*
 * isa-sbi: the SBI surface a KVM guest sees (SBI spec v2.0; what Linux 6.12 KVM implements in the
 * kernel, docs/kvm-riscv-abi.md §4). Return convention: a0 = error, a1 = value (SBI §3).
 * Error codes (§3.2): SUCCESS 0, NOT_SUPPORTED -2, INVALID_PARAM -3, ALREADY_AVAILABLE -6.
 *   BASE (§4): spec version 2.0 (0x02000000: major in bits 30:24), impl id 3 (KVM, §4.9),
 *         impl version / mvendorid / marchid / mimpid succeed; probe of TIME, IPI, RFENCE, HSM,
 *         SRST and BASE is non-zero, of an unknown EID and of DBCN (off until user space enables
 *         it) is 0; an unknown BASE function and an unknown EID return NOT_SUPPORTED.
 *   TIME (§6): set_timer succeeds.  IPI (§7): send_ipi to self succeeds and sets sip.SSIP.
 *   RFENCE (§8): remote_fence_i / sfence_vma / sfence_vma_asid to self succeed; the hfence
 *         functions (3..6) are NOT_SUPPORTED (no nested virtualization).
 *   HSM (§9): hart 0 is STARTED (0); status of a hart that does not exist is INVALID_PARAM;
 *         hart_start of the running hart is ALREADY_AVAILABLE.
 *   SRST (§10): an unknown reset type is NOT_SUPPORTED (KVM 6.12; the spec says INVALID_PARAM,
 *         see t_srst); the final shutdown is SRST.
 */
	.include "isa.inc"

	.equ SBI_BASE_GET_IMP_VERSION, 2
	.equ SBI_BASE_GET_MVENDORID, 4
	.equ SBI_BASE_GET_MARCHID, 5
	.equ SBI_BASE_GET_MIMPID, 6
	.equ ERR_NOT_SUPPORTED, -2
	.equ ERR_INVALID_PARAM, -3
	.equ ERR_ALREADY_AVAILABLE, -6

/* call eid/fid with a0..a2 = x, y, z; a0/a1 = (error, value) */
.macro CALL eid, fid, x=0, y=0, z=0
	li a0, \x
	li a1, \y
	li a2, \z
	SBI_CALL \eid, \fid
.endm
.macro PROBE eid, present
	CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT, \eid
	CHECK a0, 0
	snez a1, a1
	CHECK a1, \present
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START
	mv s0, a0				/* hartid */
t_base:
	CALL SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
	CHECK a0, 0
	CHECK a1, 0x02000000
	CALL SBI_EXT_BASE, SBI_BASE_GET_IMP_ID
	CHECK a0, 0
	CHECK a1, 3
	CALL SBI_EXT_BASE, SBI_BASE_GET_IMP_VERSION
	CHECK a0, 0
	CALL SBI_EXT_BASE, SBI_BASE_GET_MVENDORID
	CHECK a0, 0
	CALL SBI_EXT_BASE, SBI_BASE_GET_MARCHID
	CHECK a0, 0
	CALL SBI_EXT_BASE, SBI_BASE_GET_MIMPID
	CHECK a0, 0
	PROBE SBI_EXT_BASE, 1
	PROBE SBI_EXT_TIME, 1
	PROBE SBI_EXT_IPI, 1
	PROBE SBI_EXT_RFENCE, 1
	PROBE SBI_EXT_HSM, 1
	PROBE SBI_EXT_SRST, 1
	PROBE SBI_EXT_DBCN, 0
	PROBE 0x12345678, 0
	CALL SBI_EXT_BASE, 7			/* BASE has functions 0..6 */
	CHECK a0, ERR_NOT_SUPPORTED
	CALL 0x12345678, 0
	CHECK a0, ERR_NOT_SUPPORTED
	CALL 0x0A000000, 0			/* above the vendor range, not firmware (0x0A000000..) either */
	CHECK a0, ERR_NOT_SUPPORTED
t_time:
	CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER, -1
	CHECK a0, 0
	CALL SBI_EXT_TIME, 1			/* TIME has only set_timer */
	CHECK a0, ERR_NOT_SUPPORTED
t_ipi:
	csrci sstatus, SSTATUS_SIE
	li t0, SIE_SSIE
	csrc sip, t0
	CALL SBI_EXT_IPI, 0, 1, 0		/* mask 1 at base 0: this hart */
	CHECK a0, 0
	csrr a0, sip
	andi a0, a0, SIE_SSIE
	CHECK a0, SIE_SSIE
	li t0, SIE_SSIE
	csrc sip, t0
	CALL SBI_EXT_IPI, 0, 0, -1		/* base -1: every hart */
	CHECK a0, 0
	csrr a0, sip
	andi a0, a0, SIE_SSIE
	CHECK a0, SIE_SSIE
	li t0, SIE_SSIE
	csrc sip, t0
t_rfence:
	CALL SBI_EXT_RFENCE, 0, 1, 0
	CHECK a0, 0
	li a3, -1
	CALL SBI_EXT_RFENCE, 1, 1, 0, 0	/* start 0, size -1 (a3): everything */
	CHECK a0, 0
	li a3, 0x1000
	li a4, 0
	CALL SBI_EXT_RFENCE, 2, 1, 0, 0	/* asid 0 */
	CHECK a0, 0
	CALL SBI_EXT_RFENCE, 3, 1, 0
	CHECK a0, ERR_NOT_SUPPORTED
	CALL SBI_EXT_RFENCE, 6, 1, 0
	CHECK a0, ERR_NOT_SUPPORTED
t_hsm:
	CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS, 0
	CHECK a0, 0
	CHECK a1, 0				/* STARTED */
	CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS, 7
	CHECK a0, ERR_INVALID_PARAM
	la a1, _start
	mv a0, s0
	li a2, 0
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_START
	CHECK a0, ERR_ALREADY_AVAILABLE
	la a1, _start
	li a0, 7
	li a2, 0
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_START
	CHECK a0, ERR_INVALID_PARAM
t_srst:
	/* SBI v2.0 §10.1 names INVALID_PARAM for a reserved reset type, but Linux 6.12 KVM
	 * (kvm_sbi_ext_srst_handler) answers NOT_SUPPORTED, and so does the emulator
	 * (guest/src/srst.S documents the same): the program checks the KVM answer. */
	CALL SBI_EXT_SRST, SBI_SRST_RESET, 0x12345, 0
	CHECK a0, ERR_NOT_SUPPORTED

	ISA_DONE
	ISA_RUNTIME
