/*
 * smp: two harts; hart 0 starts hart 1 with SBI HSM (SBI §9), which KVM handles in the kernel.
 * Reports (tag: a0, a1):
 *   1: hart_get_status(1) before the start          -> (0, 1 STOPPED)
 *   2: hart_start(1, secondary, 0x5EC0DA7A)         -> (0, 0)
 *   0x100 (from hart 1): its a0/a1 at entry          -> (1, 0x5EC0DA7A)  (SBI §9.1: a0 = hartid,
 *         a1 = opaque, satp = 0, sstatus.SIE = 0); a2 = sstatus.SIE bit, a3 = satp
 *   3: hart_get_status(1) after the start           -> (0, 0 STARTED)
 *   4: hart_start(1, ...) again                     -> (-6 ALREADY_AVAILABLE, 0)
 *   5: hart_get_status(9), no such hart              -> (-3 INVALID_PARAM, 0)
 * then SRST shutdown from hart 0 (which stops every vCPU).
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	li a0, 1
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS
	REPORT 1
	li a0, 1
	la a1, secondary
	li a2, 0x5EC0DA7A
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_START
	REPORT 2
	li a0, 1
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS
	REPORT 3
	li a0, 1
	la a1, secondary
	li a2, 0
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_START
	REPORT 4
	li a0, 9
	li a1, 0x66
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS
	REPORT 5
	SHUTDOWN

	.balign 4
secondary:
	csrr t0, sstatus
	andi a2, t0, SSTATUS_SIE
	csrr a3, satp
	REPORT 0x100
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STOP
1:	wfi
	j 1b
