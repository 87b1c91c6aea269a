/*
 * irq: the supervisor external interrupt raised by user space (KVM_INTERRUPT, kvm-riscv-abi.md
 * §1.5) and taken by the guest (privileged spec §10.1.3: sip.SEIP, scause = interrupt bit | 9).
 *   1: ready: stvec, sie.SEIE and sstatus.SIE are set; the test raises the line now (or lets the
 *      guest reach wfi first and raises it while run() is pending)
 *   2: from the trap handler: (scause, 1 if sip.SEIP was visible) - the test lowers the line
 *      before resuming, or the handler would be entered again
 *   3: the main loop saw the handler's flag: (number of handler entries, 0)
 * then SRST shutdown.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	la t0, trap_handler
	csrw stvec, t0
	li t0, SIE_SEIE
	csrs sie, t0
	csrsi sstatus, SSTATUS_SIE
	REPORT 1
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

	/* stvec direct mode: base must be 4-byte aligned (privileged spec §10.1.2). */
	.balign 4
trap_handler:
	csrr a0, scause
	csrr t0, sip
	srli t0, t0, 9
	andi a1, t0, 1
	REPORT 2
	la t1, entries
	lw t2, 0(t1)
	addi t2, t2, 1
	sw t2, 0(t1)
	sret

	.section .data
	.balign 8
entries:
	.word 0
