/*
 * dbcn: the SBI debug console (SBI §12), which KVM forwards to user space only after user space
 * set ONE_REG sbi_ext.DBCN = 1 (kvm-riscv-abi.md §3.10, §4.3). Reports (tag: a0, a1):
 *   1: console_write(len(message), &message, 0)      enabled: exit, then what user space returned
 *   2: console_write_byte('!')
 *   3: console_read(8, &inbuf, 0)                    the test writes bytes into inbuf
 *   4: the 8 bytes of inbuf as a little-endian u64   (what console_read delivered)
 *   5: DBCN with the unknown FID 3                   -2 from the kernel, no exit
 * Disabled, every DBCN call answers -2 (NOT_SUPPORTED) in the kernel, so 1, 2, 3 and 5 report
 * (-2, 0) and 4 reports 0. Then SRST shutdown.
 */
	.include "common.S"
	.section .data
message:
	.ascii "hello from the guest\n"
message_end:
	.balign 8
inbuf:
	.dword 0
	.equ MESSAGE_LEN, message_end - message

	.section .text.entry, "ax"
	.globl _start
_start:
	li a0, MESSAGE_LEN
	la a1, message
	li a2, 0
	SBI_CALL SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE
	REPORT 1
	li a0, '!'
	SBI_CALL SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE_BYTE
	REPORT 2
	li a0, 8
	la a1, inbuf
	li a2, 0
	SBI_CALL SBI_EXT_DBCN, SBI_DBCN_CONSOLE_READ
	REPORT 3
	la t0, inbuf
	ld a0, 0(t0)
	li a1, 0
	REPORT 4
	li a0, 0
	li a1, 0x66
	SBI_CALL SBI_EXT_DBCN, 3
	REPORT 5
	SHUTDOWN

