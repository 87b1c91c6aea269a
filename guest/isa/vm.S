/*
 * isa-vm: S-mode virtual memory (privileged spec §10.3 Sv39, §10.4 Sv48, §10.3.2 the walk,
 * §10.1.1.x SUM and MXR, §10.1.11 satp). The page tables are built at run time in RAM at
 * PT (0x80400000); the program itself runs from an identity-mapped 1 GiB page (VA = PA
 * 0x80000000) throughout.
 *
 * Sv39 layout (VA -> PA, flags):
 *   root[2] 0x80000000  -> 0x80000000  1 GiB   RWX AD   (identity: code, data, tables)
 *   root[3] 0xc0000000  -> 0x80000000  1 GiB   RW AD
 *   root[4] 0x100000000 -> 0x80200000  1 GiB   R AD     misaligned superpage -> page fault
 *   root[1] -> L1:
 *     L1[1] 0x40200000  -> 0x80600000  2 MiB   RW AD
 *     L1[2] 0x40400000  -> 0x80601000  2 MiB   RW AD    misaligned superpage -> page fault
 *     L1[0] -> L0 (4 KiB pages at 0x40000000 + 0x1000 * i):
 *       0 PAGE_RW RW AD | 1 PAGE_U RW U AD | 2 PAGE_X X A (execute-only) | 3 PAGE_RO R A
 *       4 PAGE_AD RW (A = D = 0) | 5 code page X A | 6 code page X U A | 7 invalid (V = 0)
 *       8 PAGE_RW RW A (D = 0) | 9 W without R (reserved) | 10 V only (pointer at level 0)
 * Sv48: root48[0] -> L2 with L2[2] = the identity 1 GiB page, L2[3] like root[3], L2[4] like
 *   root[4] (misaligned) and L2[1] = the same L1 as above;
 *   root48[1] 0x8000000000 -> 0x0 512 GiB RW AD; root48[2] 0x10000000000 -> 0x80000000 (misaligned).
 *
 * Page faults: fetch 12, load 13, store/AMO 15, stval = the faulting virtual address.
 * A/D bits: with A = 0 (or D = 0 for a store) the spec allows either a page fault (Svade) or a
 * hardware update of the PTE (Svadu; QEMU and the emulator do this for a KVM guest). Both pass:
 * the fault path sets the bit itself and retries; a note reports which one happened
 * (note 1: load with A = 0, note 2: store with D = 0, note 3: store with A = D = 0;
 * 0 = updated by hardware, 1 = page fault).
 */
	.include "isa.inc"
	.include "pte.S"

	.equ PT, 0x80400000
	.equ ROOT39, PT
	.equ L1, PT + 0x1000
	.equ L0, PT + 0x2000
	.equ ROOT48, PT + 0x3000
	.equ L2_48, PT + 0x4000
	.equ PAGE_RW, 0x80500000
	.equ PAGE_U, 0x80501000
	.equ PAGE_X, 0x80502000
	.equ PAGE_RO, 0x80503000
	.equ PAGE_AD, 0x80504000
	.equ MEGA, 0x80600000
	.equ VA4K, 0x40000000
	.equ SATP_SV39, 8 << 60
	.equ SATP_SV48, 9 << 60

/* pointer to a next-level table */
.macro SET_PTR slot, table
	SET_PTE \slot, \table, PTE_V
.endm

/* FAULT_LOAD va, cause: a load from va must fault with cause and stval = va */
.macro FAULT_LOAD va, cause=CAUSE_LOAD_PAGE_FAULT
	li s1, \va
	EXPECT_TRAP 1f
	ld a2, 0(s1)
1:	TAKE_TRAP a0, a1
	CHECK a0, \cause
	CHECK_REG a1, s1
.endm
.macro FAULT_STORE va
	li s1, \va
	EXPECT_TRAP 1f
	sd zero, 0(s1)
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_STORE_PAGE_FAULT
	CHECK_REG a1, s1
.endm
/* a jump to va must fault on the fetch: cause 12, stval = sepc = va */
.macro FAULT_FETCH va
	li s1, \va
	EXPECT_TRAP 1f
	jalr ra, 0(s1)
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_FETCH_PAGE_FAULT
	CHECK_REG a1, s1
.endm
/* LOAD_OK va, expected */
.macro LOAD_OK va, expect
	li s1, \va
	TAKE_TRAP a0, a1
	ld a2, 0(s1)
	CHECK a2, \expect
	TAKE_TRAP a0, a1
	CHECK a0, -1
.endm

/* The checks both modes share (same 4 KiB / 2 MiB mappings, gigapages at 0x80000000/0xc0000000);
 * a macro, expanded once per mode, so each expansion has its own case numbers. */
.macro VM_COMMON m
	li t0, SSTATUS_SUM | SSTATUS_MXR
	csrc sstatus, t0
t_4k_\m:
	LOAD_OK VA4K, 0x1111111111111111
	li s1, VA4K + 8
	li a0, 0x0123456789abcdef
	sd a0, 0(s1)
	li t0, PAGE_RW + 8			/* the store landed in the mapped page */
	ld a2, 0(t0)
	CHECK a2, 0x0123456789abcdef
	LOAD_OK 0x40201234, 0x6666666666666666	/* 2 MiB */
	LOAD_OK 0xc0601234, 0x6666666666666666	/* 1 GiB at 0xc0000000 */
	LOAD_OK VA4K + 0x3000, 0x4444444444444444	/* read-only page: loads work */
	FAULT_STORE VA4K + 0x3000		/* ... stores fault */
	li s1, VA4K + 0x3000
	EXPECT_TRAP 1f
	amoadd.d a2, zero, (s1)			/* an AMO is a store: cause 15 */
1:	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_STORE_PAGE_FAULT
	FAULT_LOAD 0x40400010			/* misaligned 2 MiB page */
	FAULT_LOAD VA4K + 0x7008		/* invalid PTE */
	FAULT_STORE VA4K + 0x7008
	FAULT_FETCH VA4K + 0x7000
	FAULT_FETCH VA4K			/* no X */
	FAULT_LOAD VA4K + 0x9000		/* W without R is reserved (§10.3.1): page fault */
	FAULT_STORE VA4K + 0x9000
	FAULT_LOAD VA4K + 0xa000		/* non-leaf PTE at level 0 (§10.3.2 step 4) */
	FAULT_LOAD 0x40600008			/* invalid PTE one level up (L1[3]) */
	FAULT_STORE 0x140000008			/* invalid PTE in the root (root[5] / L2[5]) */
	FAULT_FETCH 0x140000000
t_mxr_\m:	/* execute-only page: loads fault unless MXR (§10.1.1.x) */
	FAULT_LOAD VA4K + 0x2000
	li t0, SSTATUS_MXR
	csrs sstatus, t0
	LOAD_OK VA4K + 0x2000, 0x3333333333333333
	FAULT_STORE VA4K + 0x2000		/* MXR does not make it writable */
	li t0, SSTATUS_MXR
	csrc sstatus, t0
t_sum_\m:	/* U page from S: loads/stores fault unless SUM; fetch always faults */
	FAULT_LOAD VA4K + 0x1000
	FAULT_STORE VA4K + 0x1000
	li t0, SSTATUS_SUM
	csrs sstatus, t0
	LOAD_OK VA4K + 0x1000, 0x2222222222222222
	li s1, VA4K + 0x1010
	li a0, 77
	sd a0, 0(s1)
	ld a2, 0(s1)
	CHECK a2, 77
	FAULT_FETCH VA4K + 0x6000		/* S never executes U pages */
	li t0, SSTATUS_SUM
	csrc sstatus, t0
t_exec_\m: /* S code page through a 4 KiB mapping */
	li a0, 0
	li t0, VA4K + 0x5000
	jalr ra, 0(t0)
	CHECK a0, 42
t_user_\m: /* U-mode: its own page works, S pages fault */
	li a1, VA4K + 0x1000
	li a0, 0
	EXPECT_TRAP 1f
	li t0, SSTATUS_SPP
	csrc sstatus, t0
	li t0, VA4K + 0x6000 + 0x100
	csrw sepc, t0
	sret
1:	TAKE_TRAP a3, a4
	CHECK a3, CAUSE_ECALL_U			/* the load worked, then the ecall */
	CHECK a0, 0x2222222222222222
	li a1, VA4K
	EXPECT_TRAP 1f
	li t0, SSTATUS_SPP
	csrc sstatus, t0
	li t0, VA4K + 0x6000 + 0x100
	csrw sepc, t0
	sret
1:	TAKE_TRAP a3, a4
	CHECK a3, CAUSE_LOAD_PAGE_FAULT		/* U load from an S page */
	CHECK a4, VA4K
	EXPECT_TRAP 1f
	li t0, SSTATUS_SPP
	csrc sstatus, t0
	li t0, VA4K + 0x5000
	csrw sepc, t0
	sret
1:	TAKE_TRAP a3, a4
	CHECK a3, CAUSE_FETCH_PAGE_FAULT	/* U fetch from an S page */
	CHECK a4, VA4K + 0x5000
t_ad_\m:	/* load with A = 0 (PTE L0[4]): Svadu sets A, Svade faults */
	li s1, VA4K + 0x4000
	li s4, L0 + 8 * 4
	EXPECT_TRAP 1f
	ld a2, 0(s1)
1:	TAKE_TRAP a0, a1
	li t0, -1
	beq a0, t0, 2f
	xori a0, a0, CAUSE_LOAD_PAGE_FAULT	/* fault: cause 13, stval = va, A still 0 */
	xor a1, a1, s1
	or a0, a0, a1
	ld a3, 0(s4)
	andi a3, a3, PTE_A
	or a0, a0, a3
	CHECK a0, 0
	ld a3, 0(s4)
	ori a3, a3, PTE_A
	sd a3, 0(s4)
	sfence.vma
	ld a2, 0(s1)
	CHECK a2, 0x5555555555555555
	li a0, 1
	NOTE 1, a0
	ALTERNATIVE 2
	j 3f
2:	CHECK a2, 0x5555555555555555		/* updated: A set, D still clear */
	ld a3, 0(s4)
	andi a3, a3, PTE_A | PTE_D
	CHECK a3, PTE_A
	li a0, 0
	NOTE 1, a0
	ALTERNATIVE 2
3:	/* store with A = 1, D = 0 (PTE L0[4] now): Svadu sets D, Svade faults */
	EXPECT_TRAP 1f
	li a2, 0x7777
	sd a2, 0(s1)
1:	TAKE_TRAP a0, a1
	li t0, -1
	beq a0, t0, 2f
	xori a0, a0, CAUSE_STORE_PAGE_FAULT
	xor a1, a1, s1
	or a0, a0, a1
	ld a3, 0(s4)
	andi a3, a3, PTE_D
	or a0, a0, a3
	CHECK a0, 0
	ld a3, 0(s4)
	ori a3, a3, PTE_D
	sd a3, 0(s4)
	sfence.vma
	li a2, 0x7777
	sd a2, 0(s1)
	li t0, PAGE_AD
	ld a2, 0(t0)
	CHECK a2, 0x7777
	li a0, 1
	NOTE 2, a0
	ALTERNATIVE 2
	j 3f
2:	li t0, PAGE_AD
	ld a2, 0(t0)
	CHECK a2, 0x7777
	ld a3, 0(s4)
	andi a3, a3, PTE_A | PTE_D
	CHECK a3, PTE_A | PTE_D
	li a0, 0
	NOTE 2, a0
	ALTERNATIVE 2
3:	/* store to L0[8] (A = 1, D = 0) through VA4K + 0x8000 */
	li s1, VA4K + 0x8000 + 16
	li s4, L0 + 8 * 8
	EXPECT_TRAP 1f
	li a2, 0x8888
	sd a2, 0(s1)
1:	TAKE_TRAP a0, a1
	li t0, -1
	beq a0, t0, 2f
	xori a0, a0, CAUSE_STORE_PAGE_FAULT
	xor a1, a1, s1
	or a0, a0, a1
	CHECK a0, 0
	li a0, 1
	NOTE 3, a0
	ld a3, 0(s4)
	ori a3, a3, PTE_D
	sd a3, 0(s4)
	sfence.vma
	j 3f
2:	ld a3, 0(s4)
	andi a3, a3, PTE_D
	CHECK a3, PTE_D
	li a0, 0
	NOTE 3, a0
3:	ALTERNATIVE 1
.endm


	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START
	/* zero the tables and pages (RAM starts zeroed, but a VMM may reuse memory) */
	li t0, PT
	li t1, PT + 0x5000
1:	sd zero, 0(t0)
	addi t0, t0, 8
	bltu t0, t1, 1b
	/* known contents, written through the physical (identity) addresses */
	li t0, PAGE_RW
	li t1, 0x1111111111111111
	sd t1, 0(t0)
	li t0, PAGE_U
	li t1, 0x2222222222222222
	sd t1, 0(t0)
	li t0, PAGE_X
	li t1, 0x3333333333333333
	sd t1, 0(t0)
	li t0, PAGE_RO
	li t1, 0x4444444444444444
	sd t1, 0(t0)
	li t0, PAGE_AD
	li t1, 0x5555555555555555
	sd t1, 0(t0)
	li t0, MEGA + 0x1234
	li t1, 0x6666666666666666
	sd t1, 0(t0)

	/* Sv39 tables */
	SET_PTE ROOT39 + 8 * 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
	SET_PTE ROOT39 + 8 * 3, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTE ROOT39 + 8 * 4, 0x80200000, PTE_V | PTE_R | PTE_A | PTE_D
	SET_PTR ROOT39 + 8 * 1, L1
	SET_PTR L1 + 8 * 0, L0
	SET_PTE L1 + 8 * 1, MEGA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTE L1 + 8 * 2, MEGA + 0x1000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTE L0 + 8 * 0, PAGE_RW, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTE L0 + 8 * 1, PAGE_U, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
	SET_PTE L0 + 8 * 2, PAGE_X, PTE_V | PTE_X | PTE_A
	SET_PTE L0 + 8 * 3, PAGE_RO, PTE_V | PTE_R | PTE_A
	SET_PTE L0 + 8 * 4, PAGE_AD, PTE_V | PTE_R | PTE_W
	la s2, code_page
	SET_PTE_REG L0 + 8 * 5, s2, PTE_V | PTE_X | PTE_A
	SET_PTE_REG L0 + 8 * 6, s2, PTE_V | PTE_X | PTE_U | PTE_A
	SET_PTE L0 + 8 * 8, PAGE_RW, PTE_V | PTE_R | PTE_W | PTE_A
	SET_PTE L0 + 8 * 9, PAGE_RW, PTE_V | PTE_W | PTE_A | PTE_D	/* W without R: reserved */
	SET_PTE L0 + 8 * 10, PAGE_RW, PTE_V			/* pointer at the last level */

t_sv39:
	li t0, SATP_SV39 | (ROOT39 >> 12)
	csrw satp, t0
	sfence.vma
	csrr a0, satp
	srli a0, a0, 60
	CHECK a0, 8				/* Sv39 supported: the WARL field kept it */
	VM_COMMON sv39
	/* Sv39 only: bits 63:39 must equal bit 38 (§10.3.1) */
	FAULT_LOAD 0x0000008000000000
	FAULT_LOAD 0x100000010			/* misaligned 1 GiB page (root[4]) */

t_sv48:
	li t0, SATP_SV48 | (ROOT48 >> 12)
	/* Sv48 root: [0] -> L2 (identity 1 GiB + the Sv39 L1), [1] terapage, [2] misaligned */
	SET_PTR ROOT48 + 8 * 0, L2_48
	SET_PTE L2_48 + 8 * 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
	SET_PTE L2_48 + 8 * 3, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTR L2_48 + 8 * 1, L1
	SET_PTE L2_48 + 8 * 4, 0x80200000, PTE_V | PTE_R | PTE_A | PTE_D	/* misaligned 1 GiB */
	SET_PTE ROOT48 + 8 * 1, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	SET_PTE ROOT48 + 8 * 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	/* reset the A/D test PTEs and page for a second round */
	li t0, PAGE_AD
	li t1, 0x5555555555555555
	sd t1, 0(t0)
	SET_PTE L0 + 8 * 4, PAGE_AD, PTE_V | PTE_R | PTE_W
	SET_PTE L0 + 8 * 8, PAGE_RW, PTE_V | PTE_R | PTE_W | PTE_A
	li t0, SATP_SV48 | (ROOT48 >> 12)
	csrw satp, t0
	sfence.vma
	csrr a0, satp
	srli a0, a0, 60
	CHECK a0, 9
	VM_COMMON sv48
	LOAD_OK 0x8000000000 + MEGA + 0x1234, 0x6666666666666666	/* 512 GiB page at PA 0 */
	FAULT_LOAD 0x10000000010		/* misaligned 512 GiB page */
	FAULT_LOAD 0x100000010			/* misaligned 1 GiB page (L2[4]) */
	FAULT_LOAD 0x0000800000000000		/* bits 63:48 must equal bit 47 (§10.4.1) */
	csrw satp, zero
	sfence.vma
	ISA_DONE

/* A page of code mapped at VA4K + 0x5000 (S, X) and VA4K + 0x6000 (U, X). */
	.balign 4096
code_page:
	li a0, 42
	ret
	.balign 256
	ld a0, 0(a1)				/* U-mode at +0x100: load from a1, then ecall */
	ecall
	.balign 4096

	ISA_RUNTIME
