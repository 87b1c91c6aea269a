/*
 * traps: exceptions KVM delegates to the guest never reach user space (kvm-riscv-abi.md §2.5:
 * other CSRs trap as illegal instructions inside the guest); a fetch outside RAM does, as a
 * failed KVM_RUN (EOPNOTSUPP, §1.6).
 * a2 = 0: the handler reports (scause, sepc) for each of
 *           insn_zero:   .word 0          illegal instruction (cause 2; all-zero is reserved illegal)
 *           insn_mcsr:   csrr a0, mstatus  illegal from S-mode (cause 2, priv spec §2.1)
 *           insn_ebreak: ebreak            breakpoint (cause 3), delegated without guest debug
 *         as report 1, steps over the instruction, then report 2 = (number of traps, 0), SRST.
 * a2 = 1: jumps to 0x10000000, where there is no memory: KVM_RUN fails with EOPNOTSUPP.
 */
	.include "common.S"
	.section .text.entry, "ax"
	.globl _start
_start:
	la t0, trap_handler
	csrw stvec, t0
	li s1, 0
	bnez a2, jump_out
	.globl insn_zero, insn_mcsr, insn_ebreak
insn_zero:
	.word 0
insn_mcsr:
	csrr a0, mstatus
insn_ebreak:
	ebreak
	mv a0, s1
	li a1, 0
	REPORT 2
	SHUTDOWN
jump_out:
	li t0, 0x10000000
	jr t0

	.balign 4
trap_handler:
	addi s1, s1, 1
	csrr a0, scause
	csrr a1, sepc
	REPORT 1
	csrr t0, sepc
	addi t0, t0, 4
	csrw sepc, t0
	sret
