/*
 * timer: SBI TIME set_timer (SBI §6.1) and wfi until the supervisor timer interrupt arrives
 * (scause = interrupt bit | 5, privileged spec §10.1.9). a2 = timer delta in ticks, set by the
 * test before the first run (e.g. timer.frequency / 100 for 10 ms).
 *   1: set_timer(now + delta) -> (a0, a1) of the call (0, 0)
 *   2: from the trap handler: (scause, 1 if rdtime >= the deadline)
 *   3: after the handler ran: (handler entries, 0)
 * The handler disarms the timer with set_timer(-1) (SBI §6.1: clears the pending bit, sets the
 * next event far away). Then SRST shutdown.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	mv s3, a2
	la t0, trap_handler
	csrw stvec, t0
	li t0, SIE_STIE
	csrs sie, t0
	rdtime s1
	add s2, s1, s3
	mv a0, s2
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	REPORT 1
	csrsi sstatus, SSTATUS_SIE
wait_loop:
	la t1, entries
	lw t2, 0(t1)
	bnez t2, done
	wfi
	j wait_loop
done:
	csrci sstatus, SSTATUS_SIE
	la t1, entries
	lw a0, 0(t1)
	li a1, 0
	REPORT 3
	SHUTDOWN

	.balign 4
trap_handler:
	csrr a0, scause
	rdtime t0
	sltu a1, t0, s2
	xori a1, a1, 1
	REPORT 2
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	la t1, entries
	lw t2, 0(t1)
	addi t2, t2, 1
	sw t2, 0(t1)
	sret

	.section .data
	.balign 8
entries:
	.word 0
