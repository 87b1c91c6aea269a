/*
 * spin: a busy loop for vcpu.stop(). s1 counts iterations; the loop ends when the 32-bit word at
 * the guest physical address in a2 (set by the test) becomes non-zero.
 *   1: (iterations, 0) once the flag is seen
 * then SRST shutdown.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	mv s0, a2
	li s1, 0
spin:
	addi s1, s1, 1
	lw t0, 0(s0)
	beqz t0, spin
	mv a0, s1
	li a1, 0
	REPORT 1
	SHUTDOWN
