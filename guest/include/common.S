/*
 * Shared header of the kvm-riscv guest programs: bare-metal S-mode code entered the way a VMM
 * enters a RISC-V kernel (Linux Documentation/arch/riscv/boot.rst): pc = 0x80200000,
 * a0 = hartid, a1 = device tree address (0 here), MMU off. No libc, no stack unless a program
 * makes one.
 *
 * Calls follow the SBI binary encoding (SBI spec v2.0 §3): a7 = EID, a6 = FID, a0..a5 = args;
 * the answer comes back as a0 = error, a1 = value.
 *
 * Talking to the test: REPORT issues an SBI call in the experimental range (SBI §3, EIDs
 * 0x08000000-0x08FFFFFF), which KVM always forwards to user space (kvm-riscv-abi.md §4.3).
 * The FID is the report tag, a0..a5 carry the values; the test reads them from the SBI exit.
 * That keeps every program free of devices: the only channels are SBI exits and MMIO exits.
 */

	/* Exact instruction sizes matter to the MMIO tests; compressed forms only where asked. */
	.option norvc

/* Extension ids (SBI §4-§12; ASCII of the short names) */
	.equ SBI_EXT_0_1_CONSOLE_PUTCHAR, 0x1
	.equ SBI_EXT_BASE, 0x10
	.equ SBI_EXT_TIME, 0x54494d45
	.equ SBI_EXT_HSM, 0x48534d
	.equ SBI_EXT_SRST, 0x53525354
	.equ SBI_EXT_DBCN, 0x4442434e

/* BASE functions (SBI §4) */
	.equ SBI_BASE_GET_SPEC_VERSION, 0
	.equ SBI_BASE_GET_IMP_ID, 1
	.equ SBI_BASE_PROBE_EXT, 3

/* TIME (§6), HSM (§9), SRST (§10), DBCN (§12) functions */
	.equ SBI_TIME_SET_TIMER, 0
	.equ SBI_HSM_HART_START, 0
	.equ SBI_HSM_HART_STOP, 1
	.equ SBI_HSM_HART_STATUS, 2
	.equ SBI_SRST_RESET, 0
	.equ SBI_DBCN_CONSOLE_WRITE, 0
	.equ SBI_DBCN_CONSOLE_READ, 1
	.equ SBI_DBCN_CONSOLE_WRITE_BYTE, 2

/* The report channel: first experimental EID. Test side: test/support/guest.ts REPORT_EID. */
	.equ REPORT_EID, 0x08000000

/* Supervisor CSR bits (privileged spec §10.1.1 sstatus, §10.1.3 sie) */
	.equ SSTATUS_SIE, 0x2
	.equ SIE_STIE, 0x20
	.equ SIE_SEIE, 0x200

/* SBI call: ecall with a7 = eid, a6 = fid; a0..a5 must already hold the arguments. */
.macro SBI_CALL eid, fid
	li a7, \eid
	li a6, \fid
	ecall
.endm

/* Report a0..a5 to the test under `tag`; the test's answer lands in a0/a1 (ignored). */
.macro REPORT tag
	SBI_CALL REPORT_EID, \tag
.endm

/* SRST system_reset(shutdown, no reason). Does not return under KVM; park if it ever does. */
.macro SHUTDOWN
	li a0, 0
	li a1, 0
	SBI_CALL SBI_EXT_SRST, SBI_SRST_RESET
99:	wfi
	j 99b
.endm
