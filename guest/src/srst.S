/*
 * srst: SBI system reset (SBI §10) with the type and reason user space put in a2/a3 before the
 * first run. Valid types end in KVM_EXIT_SYSTEM_EVENT (shutdown -> SHUTDOWN, cold/warm reboot ->
 * RESET, data[0] = reason) with the pc still on the ecall and a0 still holding the type
 * (kvm-riscv-abi.md §2.4, §4.4). An invalid type returns -2 and the guest reports it:
 *   1: (a0, a1) returned by system_reset
 * then SRST shutdown.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	mv a0, a2
	mv a1, a3
	.globl srst_ecall
	li a7, SBI_EXT_SRST
	li a6, SBI_SRST_RESET
srst_ecall:
	ecall
	REPORT 1
	SHUTDOWN
