/*
 * sequence: one program whose whole exit sequence is fixed by its semantics, for the cross-backend
 * comparison (test/conformance/exit-sequence.test.ts). User space answers every forwarded SBI
 * call with ret = (0, FID + 0x100) unless noted and every MMIO load with 0xFFF0.
 *   exit 1: SBI EID 0x08000100 FID 1, args (1, 2, 3, 4, 5, 6)         -> a1 = 0x101
 *   exit 2: MMIO store 8 bytes of a1 (0x101) to 0x10001000
 *   exit 3: MMIO load 2 bytes from 0x10001002 (lh)                   -> a0 = -16 (sign-extended)
 *   exit 4: SBI EID 0x09000001 FID 2, args (-16, 0x101, 0, 0, 0, 0)  -> the test answers (-1, 0)
 *           EID 0x12345678 (unknown): answered -2 in the kernel, no exit
 *   exit 5: MMIO store 1 byte of (-2 + 100) = 98 to 0x10001007
 *   exit 6: SBI BASE probe_extension(0x08000100), forwarded: EID 0x10 FID 3, args[0] = 0x08000100
 *           -> a1 = 0x103 (FID 3 + 0x100)
 *           BASE get_spec_version: in the kernel, no exit
 *   exit 7: SRST shutdown, reason = the probe answer 0x103 masked to 1 bit -> reason 1
 */
	.include "common.S"
	.equ MMIO, 0x10001000
	.section .text.entry, "ax"
	.globl _start
_start:
	li a0, 1
	li a1, 2
	li a2, 3
	li a3, 4
	li a4, 5
	li a5, 6
	SBI_CALL 0x08000100, 1
	li s0, MMIO
	sd a1, 0(s0)
	mv s1, a1
	lh a0, 2(s0)
	mv a1, s1
	li a2, 0
	li a3, 0
	li a4, 0
	li a5, 0
	SBI_CALL 0x09000001, 2
	SBI_CALL 0x12345678, 0
	addi a0, a0, 100
	sb a0, 7(s0)
	li a0, 0x08000100
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	mv s2, a1
	SBI_CALL SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
	li a0, 0
	andi a1, s2, 1
	SBI_CALL SBI_EXT_SRST, SBI_SRST_RESET
1:	wfi
	j 1b
