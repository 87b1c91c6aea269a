/*
 * mmio: loads and stores outside every memory slot become KVM_EXIT_MMIO (kvm-riscv-abi.md §2.5).
 * MMIO_BASE = 0x10000000 is below RAM; 0x84000000 is the first byte after the 64 MiB RAM slot.
 * The exits, in order (the test's table in test/conformance/mmio.test.ts follows this list):
 *   sd  0x1122334455667788 -> 0x10000000 (8 bytes)
 *   sw  same register      -> 0x10000008 (4 bytes: 88 77 66 55)
 *   sh                      -> 0x10000010 (2 bytes)
 *   sb                      -> 0x10000018 (1 byte)
 *   sw  0x5a5a5a5a         -> 0x84000000 (just past RAM)
 *   ld  0x10000020, lb 0x28, lh 0x30, lw 0x38, lbu 0x40, lhu 0x48, lwu 0x50: each loaded value
 *       is reported (tags 1..7) so the test sees KVM's sign/zero extension (RV64I §5.3: LB/LH/LW
 *       sign-extend, LBU/LHU/LWU zero-extend)
 *   c.sw a1 = 0xCAFE1234   -> 0x10000060 (compressed store, RVC §16.3)
 *   c.lw                    -> 0x10000064, reported as tag 8 (sign-extended)
 *   c.ld                    -> 0x10000068, reported as tag 9
 *   lbu 0x10000070          -> tag 10 (the test supplies more than one byte; only the low byte
 *                              may arrive)
 * then SRST shutdown. A compressed access is 2 bytes long: if the pc advanced by 4 the next
 * instruction would be mis-decoded and the reports would go wrong.
 */
	.include "common.S"
	.equ MMIO_BASE, 0x10000000
	.section .text.entry, "ax"
	.globl _start
_start:
	li s0, MMIO_BASE
	li t0, 0x1122334455667788
	sd t0, 0(s0)
	sw t0, 8(s0)
	sh t0, 16(s0)
	sb t0, 24(s0)
	li s1, 0x84000000
	li t1, 0x5a5a5a5a
	sw t1, 0(s1)

	ld a0, 32(s0)
	REPORT 1
	lb a0, 40(s0)
	REPORT 2
	lh a0, 48(s0)
	REPORT 3
	lw a0, 56(s0)
	REPORT 4
	lbu a0, 64(s0)
	REPORT 5
	lhu a0, 72(s0)
	REPORT 6
	lwu a0, 80(s0)
	REPORT 7

	/* c.sw/c.lw/c.ld need base and data in x8..x15: s0 = x8, a0 = x10, a1 = x11. */
	addi s0, s0, 0x60
	li a1, 0xCAFE1234
	.option push
	.option rvc
	c.sw a1, 0(s0)
	c.lw a0, 4(s0)
	.option pop
	REPORT 8
	.option push
	.option rvc
	c.ld a0, 8(s0)
	.option pop
	REPORT 9
	li s0, MMIO_BASE
	lbu a0, 0x70(s0)
	REPORT 10
	SHUTDOWN
