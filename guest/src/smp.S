/*
 * smp: two harts; hart 0 starts hart 1 with SBI HSM (SBI §9), which KVM handles in the kernel.
 * User space runs both vCPUs concurrently, as a VMM does. The harts hand off through two words
 * in RAM so that every status hart 0 reads is deterministic:
 *   hart 0                                         hart 1
 *   1: hart_get_status(1)      -> (0, 1 STOPPED)
 *   2: hart_start(1, secondary, 0x5EC0DA7A) -> (0, 0)
 *                                                  0x100: (a0, a1, sstatus.SIE, satp) at entry
 *                                                         = (1, 0x5EC0DA7A, 0, 0)  (SBI §9.1)
 *      spin until `alive` = 1                      alive = 1; spin until `release` = 1
 *   3: hart_get_status(1)      -> (0, 0 STARTED)   (hart 1 busy-waits: neither stopped nor in wfi)
 *   4: hart_start(1) again     -> (-6 ALREADY_AVAILABLE, 0)
 *   5: hart_get_status(9)      -> (-3 INVALID_PARAM, 0)
 *      release = 1                                 hart_stop() (does not return)
 *   6: hart_get_status(1) polled until it is not STARTED -> (0, 1 STOPPED)
 *   SRST shutdown (stops every vCPU)
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
	la t1, alive
1:	lw t2, 0(t1)
	beqz t2, 1b
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
	la t1, release
	li t2, 1
	sw t2, 0(t1)
2:	li a0, 1
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS
	beqz a1, 2b		/* 0 = STARTED: hart 1 has not reached hart_stop yet */
	REPORT 6
	SHUTDOWN

	.balign 4
secondary:
	csrr t0, sstatus
	andi a2, t0, SSTATUS_SIE
	csrr a3, satp
	REPORT 0x100
	la t1, alive
	li t2, 1
	sw t2, 0(t1)
	la t1, release
3:	lw t2, 0(t1)
	beqz t2, 3b
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STOP
4:	wfi
	j 4b

	.section .data
	.balign 8
alive:
	.word 0
release:
	.word 0
