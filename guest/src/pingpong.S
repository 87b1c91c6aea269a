/*
 * pingpong: a2 (set by the test) round trips through user space: REPORT 1 with a0 = the
 * iteration number and a1 = the a1 user space returned last time (so every answer is checked to
 * have arrived), then SRST shutdown. Used to time the exit round trip and to drive runSync().
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	mv s0, a2
	li s1, 0
	li a1, 0
loop:
	beq s1, s0, finish
	mv a0, s1
	REPORT 1
	addi s1, s1, 1
	j loop
finish:
	SHUTDOWN
