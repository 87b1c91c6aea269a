/*
 * base: SBI BASE probing and the calls KVM answers in the kernel without an exit.
 * Reports (tag: a0, a1):
 *   1: get_spec_version          (SBI §4.1; KVM 6.12 reports 2.0 = 0x02000000)
 *   2: get_impl_id               (§4.2; KVM = 3)
 *   3: probe_extension(TIME)     (§4.4; 1 = available)
 *   4: probe_extension(HSM)
 *   5: probe_extension(DBCN)     (0 unless user space enabled DBCN)
 *   6: probe_extension(0x12345678), an EID nobody implements -> 0
 *   7: ecall to EID 0x12345678   -> a0 = -2 NOT_SUPPORTED, a1 = 0 (kvm-riscv-abi.md §4.2 step 2)
 *   8: ecall to EID 0x0A000000 (firmware range: never forwarded) -> -2, 0
 *   9: BASE with an unknown FID 99 -> -2, 0
 *  10: legacy v0.1 console_putchar -> -2, 0 on a host without CONFIG_RISCV_SBI_V01
 * then SRST shutdown. a1 is loaded with garbage before the unanswered calls so that "a1 = 0"
 * proves the SBI implementation wrote it.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	SBI_CALL SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
	REPORT 1
	SBI_CALL SBI_EXT_BASE, SBI_BASE_GET_IMP_ID
	REPORT 2
	li a0, SBI_EXT_TIME
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	REPORT 3
	li a0, SBI_EXT_HSM
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	REPORT 4
	li a0, SBI_EXT_DBCN
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	REPORT 5
	li a0, 0x12345678
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	REPORT 6
	li a0, 0x55
	li a1, 0x66
	SBI_CALL 0x12345678, 0
	REPORT 7
	li a0, 0x55
	li a1, 0x66
	SBI_CALL 0x0A000000, 0
	REPORT 8
	li a0, 0x55
	li a1, 0x66
	SBI_CALL SBI_EXT_BASE, 99
	REPORT 9
	li a0, 'x'
	li a1, 0x66
	SBI_CALL SBI_EXT_0_1_CONSOLE_PUTCHAR, 0
	REPORT 10
	SHUTDOWN
