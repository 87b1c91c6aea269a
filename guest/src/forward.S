/*
 * forward: SBI calls KVM forwards unconditionally (kvm-riscv-abi.md §4.3): the experimental
 * (0x08000000-0x08FFFFFF) and vendor (0x09000000-0x09FFFFFF) ranges, and BASE probe_extension of
 * an EID in those ranges. After each call the guest echoes the a0/a1 it got back in a report, so
 * the test sees that user space's answer arrived. Reports (tag: a0, a1):
 *   1: answer to EID 0x08001234 FID 7, args a0..a5 = 0x10..0x15
 *   2: answer to EID 0x09ABCDEF FID 0x42, args a0..a5 = -1, -2, 0x8000000000000000, 0, 0, 0x7f
 *   3: answer to probe_extension(0x08001234)           (forwarded as EID 0x10 FID 3)
 *   4: answer to EID 0x08000001 with the 64-bit FID 0xFEDCBA9876543210 (the test does not answer:
 *      the guest must see the pre-filled -2, 0)
 * then SRST shutdown.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	li a0, 0x10
	li a1, 0x11
	li a2, 0x12
	li a3, 0x13
	li a4, 0x14
	li a5, 0x15
	SBI_CALL 0x08001234, 7
	REPORT 1
	li a0, -1
	li a1, -2
	li a2, 0x8000000000000000
	li a3, 0
	li a4, 0
	li a5, 0x7f
	SBI_CALL 0x09ABCDEF, 0x42
	REPORT 2
	li a0, 0x08001234
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	REPORT 3
	li a0, 0
	li a1, 0x66
	SBI_CALL 0x08000001, 0xFEDCBA9876543210
	REPORT 4
	SHUTDOWN
