# A bare-metal S-mode guest that uses the "host service" vendor SBI extension of host.ts.
#
# SBI calling convention (SBI v2.0 §3): a7 = EID, a6 = FID, a0..a5 = arguments; the SBI
# implementation returns error in a0 and value in a1. EID 0x09C0FFEE lies in the vendor range
# 0x09000000-0x09FFFFFF, which KVM forwards to user space (and the emulator does the same).
#
# The program:
#   1. asks BASE probe_extension (EID 0x10, FID 3) whether the host service exists;
#   2. calls add(40, 2) and checks the answer is 42;
#   3. has the host upper-case a buffer in guest RAM (the host validates the pointer);
#   4. passes a pointer outside RAM and expects SBI_ERR_INVALID_PARAM (-3);
#   5. asks for the SHA-256 of the buffer (an async host handler), keeping its first 8 bytes;
#   6. prints a report through the SBI debug console (DBCN) and shuts down through SRST with
#      reason 0 when every check passed, 1 (system failure) otherwise.
# Hex values are printed with a small routine so the host test can compare them.

	.equ SBI_EXT_BASE, 0x10
	.equ SBI_EXT_DBCN, 0x4442434E
	.equ SBI_EXT_SRST, 0x53525354
	.equ HOST_SERVICE, 0x09C0FFEE

# Data first: the lengths below are assembler constants the code uses.
	.section .data
text:	.ascii	"hello from the guest, host service!\n"
	.equ	text_len, . - text
msg_digest: .ascii "sha256 prefix: "
	.equ	msg_digest_len, . - msg_digest
msg_failed: .ascii "failed checks: "
	.equ	msg_failed_len, . - msg_failed
digits:	.ascii	"0123456789abcdef"
hexbuf:	.space	17


	.section .text
	.globl _start
_start:
	la	sp, stack_top
	li	s1, 0			# s1 = number of failed checks

	# 1. probe_extension(HOST_SERVICE) → value != 0 when present
	li	a7, SBI_EXT_BASE
	li	a6, 3
	li	a0, HOST_SERVICE
	ecall
	bnez	a0, 1f
	bnez	a1, 2f
1:	addi	s1, s1, 1
2:
	# 2. add(40, 2) = 42
	li	a7, HOST_SERVICE
	li	a6, 0
	li	a0, 40
	li	a1, 2
	ecall
	bnez	a0, 3f
	li	t0, 42
	beq	a1, t0, 4f
3:	addi	s1, s1, 1
4:
	# 3. upper_case(buffer, length) → length
	li	a7, HOST_SERVICE
	li	a6, 1
	la	a0, text
	li	a1, text_len
	ecall
	bnez	a0, 5f
	li	t0, text_len
	beq	a1, t0, 6f
5:	addi	s1, s1, 1
6:
	# 4. upper_case(0x10, 16): outside RAM → SBI_ERR_INVALID_PARAM (-3)
	li	a7, HOST_SERVICE
	li	a6, 1
	li	a0, 0x10
	li	a1, 16
	ecall
	li	t0, -3
	beq	a0, t0, 7f
	addi	s1, s1, 1
7:
	# 5. sha256_prefix(buffer, length) → first 8 bytes of the digest, big-endian
	li	a7, HOST_SERVICE
	li	a6, 2
	la	a0, text
	li	a1, text_len
	ecall
	mv	s2, a1
	beqz	a0, 8f
	addi	s1, s1, 1
8:
	# 6. report
	la	a0, text
	li	a1, text_len
	call	print
	la	a0, msg_digest
	li	a1, msg_digest_len
	call	print
	mv	a0, s2
	call	print_hex
	la	a0, msg_failed
	li	a1, msg_failed_len
	call	print
	mv	a0, s1
	call	print_hex

	li	a7, SBI_EXT_SRST
	li	a6, 0
	li	a0, 0			# shutdown
	snez	a1, s1			# reason: 0 none, 1 system failure
	ecall
9:	wfi
	j	9b

# print(a0 = address, a1 = length) through DBCN console_write, looping on partial writes.
print:
	mv	t1, a0
	mv	t2, a1
10:	beqz	t2, 11f
	li	a7, SBI_EXT_DBCN
	li	a6, 0
	mv	a0, t2
	mv	a1, t1
	li	a2, 0
	ecall
	bnez	a0, 11f
	add	t1, t1, a1
	sub	t2, t2, a1
	j	10b
11:	ret

# print_hex(a0): 16 hex digits and a newline.
print_hex:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	la	t3, hexbuf
	li	t4, 60
12:	srl	t5, a0, t4
	andi	t5, t5, 15
	la	t6, digits
	add	t6, t6, t5
	lbu	t6, 0(t6)
	sb	t6, 0(t3)
	addi	t3, t3, 1
	addi	t4, t4, -4
	bgez	t4, 12b
	li	t6, 10
	sb	t6, 0(t3)
	la	a0, hexbuf
	li	a1, 17
	call	print
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret

	.section .bss
	.balign 16
	.space	4096
stack_top:
