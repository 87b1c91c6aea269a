/*
 * warmup: the emulator's one-time JIT warm-up guest (lib/backend/emulator/warmup.ts runs it once
 * per process on a throwaway VM). It is not a test of the ISA: it walks, in a few hundred thousand
 * instructions, every path of the interpreter loop (cpu/hart.ts Hart.run) and of the software KVM
 * around it that a Linux boot takes, so V8 has seen each of them before it optimises Hart.run
 * (otherwise every path first reached after optimisation costs a deoptimisation and a recompile).
 *
 * Entry as for every guest program (guest/README.md): S-mode, pc = 0x80200000, MMU off. RAM is
 * 4 MiB at 0x80000000 (warmup.ts RAM_BASE/RAM_SIZE). Layout inside it:
 *   0x80200000 this image; DATA 0x80300000 scratch pages; STACK_TOP 0x80380000;
 *   SAVE 0x80381000 trap save area (sscratch); PT 0x80390000 Sv39 tables (root, L1, L0).
 * Sv39 map (privileged spec §10.3): root[0] 0x0 -> 0x0 1 GiB RW (MMIO window), root[2]
 * 0x80000000 -> 0x80000000 1 GiB RWX (identity: code, data, tables), root[1] -> L1[0] -> L0
 * (4 KiB pages at VA 0x40000000 + 0x1000 * i): i = 0..7 DATA + 0x1000 * i RW, 8 a U data page,
 * 9 the U code page, 10 an S-only alias of the code page `alias_page`, 11 invalid (page fault),
 * 12 a DATA page with A = D = 0 (rewritten every pass: the walk sets A, then D).
 *
 * The program runs the coverage passes (every integer op incl. W forms, shifts by 0/<32/>=32 and
 * SLT* across the high word, MUL/MULH* with large operands, DIV/REM by zero and INT_MIN / -1; RVC;
 * loads and stores of every width, a load and a store straddling a page; branches taken and not;
 * jal/jalr in and across pages; a 32-bit instruction straddling two pages; every CSR instruction
 * form; LR/SC and AMOs; a few F/D ops; SBI BASE/TIME/HSM/RFENCE/unknown EID; MMIO loads and
 * stores; illegal instruction, ebreak and page-fault traps; a timer interrupt taken while
 * spinning, one after wfi with the interrupt already pending and one after a blocking wfi;
 * U mode with ecall back; Sv39 with TLB misses, sfence.vma, fetch through a 4 KiB mapping)
 * PASSES = 10 times: V8 allocates a function's feedback only after ~8 calls (and Hart.run's after
 * some bytecode has run), so a path taken once or twice would leave no feedback in the small
 * helpers (int64.ts, mmu.ts, the SBI layer) and none in Hart.run before its vector existed. Each
 * pass starts with five hot loops, each on its own code page, HOT_ITERS times: in the first pass
 * they pass the compile threshold warmup.ts gives the throwaway hart, so each becomes a compiled
 * WebAssembly block function, and from then on every pass calls all five from the block call
 * site in Hart.run, whose feedback is megamorphic before TurboFan first looks at it. Then SRST
 * shutdown with reason = the phase mask s10, which must be DONE_MASK (warmup.ts WARMUP_DONE_MASK):
 * each bit is set only after its phase ran (the trap and interrupt bits only when the handler
 * counted the expected entries).
 */
	.include "common.S"
	.include "pte.S"

	.equ SBI_EXT_IPI, 0x735049
	.equ SBI_EXT_RFENCE, 0x52464e43
	.equ SBI_RFENCE_REMOTE_FENCE_I, 0
	.equ SBI_RFENCE_REMOTE_SFENCE_VMA, 1
	.equ SBI_EXT_UNKNOWN, 0x0a000000

	.equ DATA, 0x80300000
	.equ STACK_TOP, 0x80380000
	.equ SAVE, 0x80381000
	.equ PT, 0x80390000
	.equ ROOT, PT
	.equ L1, PT + 0x1000
	.equ L0, PT + 0x2000
	.equ VA4K, 0x40000000
	.equ VA_U_DATA, VA4K + 0x8000
	.equ VA_U_CODE, VA4K + 0x9000
	.equ VA_ALIAS, VA4K + 0xa000
	.equ VA_INVALID, VA4K + 0xb000
	.equ VA_AD, VA4K + 0xc000
	.equ MMIO, 0x10000000
	.equ SATP_SV39, 8 << 60

	.equ PTE_RW, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
	.equ PTE_RWX, PTE_RW | PTE_X

	.equ SSTATUS_SPP, 0x100
	.equ SSTATUS_SUM, 0x40000

	/* Trap save area (SAVE) offsets: saved registers, then the handler's counters. */
	.equ SV_T5, 0
	.equ SV_T6, 8
	.equ SV_A0, 16
	.equ SV_A1, 24
	.equ SV_A6, 32
	.equ SV_A7, 40
	.equ SV_EXC, 48      /* synchronous exceptions skipped */
	.equ SV_IRQ, 56      /* timer interrupts taken */
	.equ SV_UCONT, 64    /* where a U-mode ecall returns to (S mode) */
	.equ SV_UECALL, 72   /* U-mode ecalls taken */

	.equ PASSES, 10
	.equ HOT_ITERS, 250

	/* Phase bits of s10 (DONE_MASK = all of them). */
	.equ PH_INT, 1 << 0
	.equ PH_MULDIV, 1 << 1
	.equ PH_RVC, 1 << 2
	.equ PH_MEM, 1 << 3
	.equ PH_BRANCH, 1 << 4
	.equ PH_CSR, 1 << 5
	.equ PH_AMO, 1 << 6
	.equ PH_FP, 1 << 7
	.equ PH_SBI, 1 << 8
	.equ PH_MMIO, 1 << 9
	.equ PH_TRAP, 1 << 10
	.equ PH_IRQ, 1 << 11
	.equ PH_VM, 1 << 12
	.equ PH_USER, 1 << 13
	.equ PH_HOT, 1 << 14
	.equ PH_PATCH, 1 << 15
	.equ PH_EVICT, 1 << 16
	.equ DONE_MASK, (1 << 17) - 1
	.equ EVICT_PAGES, 12
	.equ EVICT_CODE, DATA + 0x10000

/* Marks a phase done in s10 (clobbers t6). */
.macro PHASE bit
	li t6, \bit
	or s10, s10, t6
.endm


	.section .text.entry, "ax"
	.globl _start
_start:
	li sp, STACK_TOP
	li t0, SAVE
	csrw sscratch, t0
	li tp, 0
	la t0, trap_handler
	csrw stvec, t0
	li s10, 0
	call build_page_tables
	li s11, PASSES
pass:
	call hot_loops
	call cover_int
	call cover_muldiv
	call cover_rvc
	call cover_mem
	call cover_branch
	call cover_csr
	call cover_amo
	call cover_fp
	call cover_sbi
	call cover_mmio
	call cover_trap
	call cover_irq
	call cover_vm
	call cover_patch
	li t0, PASSES
	bne s11, t0, 1f
	call cover_evict     /* once, at the end of the first pass */
1:	addi s11, s11, -1
	bnez s11, pass
	mv a1, s10
	li a0, 0
	SBI_CALL SBI_EXT_SRST, SBI_SRST_RESET
1:	wfi
	j 1b

/* ---------------------------------------------------------------------------------------------- */
build_page_tables:
	SET_PTE ROOT + 0 * 8, 0x00000000, PTE_RW
	SET_PTE ROOT + 2 * 8, 0x80000000, PTE_RWX
	SET_PTE ROOT + 1 * 8, L1, PTE_V
	SET_PTE L1 + 0 * 8, L0, PTE_V
	li t2, 0
	li t3, DATA
	li t4, L0
1:	srli t0, t3, 12          /* L0[0..7]: DATA pages, RW */
	slli t0, t0, 10
	ori t0, t0, PTE_RW
	sd t0, 0(t4)
	li t0, 0x1000
	add t3, t3, t0
	addi t4, t4, 8
	addi t2, t2, 1
	li t0, 8
	bltu t2, t0, 1b
	SET_PTE L0 + 8 * 8, DATA + 0x8000, PTE_RW | PTE_U
	la t2, user_page
	SET_PTE_REG L0 + 9 * 8, t2, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
	la t2, alias_page
	SET_PTE_REG L0 + 10 * 8, t2, PTE_V | PTE_R | PTE_X | PTE_A
	ret

/* ---------------------------------------------------------------------------------------------- */
/* RV64I arithmetic (unprivileged spec §4.2), values on both sides of the 32-bit halves. */
cover_int:
	li t0, 0x7fffffff
	li t1, -5
	li t2, 0x123456789abcdef0
	li t3, 0x8000000000000000
	add a0, t0, t1
	add a0, t2, t3
	sub a0, t1, t2
	sub a0, t3, t0
	addi a0, t0, 1
	addi a0, t1, -2048
	addi a0, t2, 2047
	and a0, t2, t1
	or a0, t2, t3
	xor a0, t1, t2
	andi a0, t2, -16
	ori a0, t2, 0x7ff
	xori a0, t1, -1
	lui a0, 0x80000
	lui a0, 0x7ffff
	auipc a0, 0
	auipc a0, 0xfffff
	/* SLT*: high words differ, equal with low words differing, negative vs positive */
	slt a0, t1, t0
	slt a0, t0, t1
	slt a0, t2, t3
	slt a0, t0, t2       /* equal high words: the low words decide */
	slt a0, t1, t1
	sltu a0, t1, t0
	sltu a0, t0, t1
	sltu a0, t3, t2
	sltu a0, t0, t2      /* equal high words */
	sltu a0, t1, t1
	slti a0, t1, -4
	slti a0, t1, -6
	slti a0, t2, 100
	slti a0, t3, 0
	slti a0, t0, 2047
	sltiu a0, t1, -4
	sltiu a0, t0, 5
	sltiu a0, t2, -1
	sltiu a0, zero, 1
	/* shifts by 0, < 32 and >= 32 (immediate and register) */
	slli a0, t2, 0
	slli a0, t2, 7
	slli a0, t2, 40
	srli a0, t3, 0
	srli a0, t3, 9
	srli a0, t3, 63
	srai a0, t3, 0
	srai a0, t3, 5
	srai a0, t3, 33
	srai a0, t2, 60
	li t4, 0
	sll a0, t2, t4
	srl a0, t3, t4
	sra a0, t3, t4
	li t4, 13
	sll a0, t2, t4
	srl a0, t3, t4
	sra a0, t3, t4
	li t4, 44
	sll a0, t2, t4
	srl a0, t3, t4
	sra a0, t3, t4
	li t4, 127           /* only the low 6 bits count */
	sra a0, t1, t4
	/* W forms (§4.2.1/4.2.2 RV64I): results sign-extended from bit 31 */
	addiw a0, t0, 1
	addiw a0, t1, -1
	addw a0, t0, t0
	subw a0, t1, t0
	slliw a0, t0, 1
	slliw a0, t1, 31
	srliw a0, t1, 0
	srliw a0, t1, 4
	sraiw a0, t1, 3
	sraiw a0, t0, 31
	li t4, 5
	sllw a0, t0, t4
	srlw a0, t1, t4
	sraw a0, t1, t4
	li t4, 37            /* only the low 5 bits count */
	sllw a0, t0, t4
	srlw a0, t1, t4
	sraw a0, t1, t4
	sext.w a0, t2
	PHASE PH_INT
	ret

/* M extension (§7): MUL with products far past 2^32, MULH* signs, DIV/REM corner values. */
cover_muldiv:
	li t0, 0xfedcba9876543210
	li t1, 0x0fffffffffffffff
	li t2, -1
	li t3, 0x8000000000000000
	li t4, 0xffffffff
	li t5, 3
	mul a0, t0, t1
	mul a0, t4, t4
	mul a0, t2, t5
	mul a0, t5, t5
	mulh a0, t0, t1
	mulh a0, t3, t2
	mulhsu a0, t0, t1
	mulhsu a0, t2, t4
	mulhu a0, t0, t1
	mulhu a0, t4, t4
	mulhu a0, t2, t2     /* every 16-bit limb product near 2^32 */
	mulh a0, t2, t2
	mulhsu a0, t2, t2
	mulw a0, t4, t4
	mulw a0, t0, t5
	div a0, t0, t5
	div a0, t0, zero
	div a0, t3, t2
	divu a0, t0, t5
	divu a0, t0, zero
	li t1, 1
	divu a0, t4, t1      /* 32-bit operands, quotient >= 2^31 */
	remu a0, t4, t5
	li t1, 0x0fffffffffffffff
	rem a0, t0, t5
	rem a0, t0, zero
	rem a0, t3, t2
	remu a0, t0, t5
	remu a0, t0, zero
	li t1, 0xffffffff80000000
	divw a0, t0, t5
	divw a0, t0, zero
	divw a0, t1, t2
	divuw a0, t0, t5
	divuw a0, t0, zero
	remw a0, t0, t5
	remw a0, t0, zero
	remw a0, t1, t2
	remuw a0, t0, t5
	remuw a0, t0, zero
	PHASE PH_MULDIV
	ret

/* Loads and stores of every width, sign/zero extension, and an access straddling two pages. */
cover_mem:
	li t0, DATA
	li t1, 0x8899aabbccddeeff
	sd t1, 0(t0)
	sw t1, 8(t0)
	sh t1, 12(t0)
	sb t1, 14(t0)
	ld a0, 0(t0)
	lw a0, 0(t0)
	lwu a0, 0(t0)
	lh a0, 2(t0)
	lhu a0, 2(t0)
	lb a0, 1(t0)
	lbu a0, 1(t0)
	lw a0, 8(t0)
	lh a0, 12(t0)
	lbu a0, 14(t0)
	ld a0, -8(t0)        /* the page below DATA */
	sd t1, 2040(t0)
	ld a0, 2040(t0)
	li t2, DATA + 0x1000 - 4
	sd t1, 0(t2)         /* straddles DATA+0x1000 (misaligned: performed, cpu/hart.ts) */
	ld a0, 0(t2)
	lw a0, 2(t2)
	sw t1, 2(t2)
	lh a0, 3(t2)
	fence
	fence rw, w
	PHASE PH_MEM
	ret

/* Every branch taken and not taken (the high words decide some), jal/jalr in and across pages,
 * and a 32-bit instruction that straddles a page boundary. */
cover_branch:
	mv s9, ra
	li t0, -1
	li t1, 1
	li t2, 0x100000000
	li t3, 0x100000001
	beq t0, t1, 1f
	beq t0, t0, 1f
	nop
1:	bne t0, t0, 2f
	bne t2, t3, 2f
	nop
2:	blt t1, t0, 3f
	blt t0, t1, 3f
	nop
3:	bge t0, t1, 4f
	bge t2, t1, 4f
	nop
4:	bltu t2, t1, 5f
	bltu t0, t2, 5f
	bltu t1, t0, 5f
	nop
5:	bgeu t1, t0, 6f
	bgeu t3, t2, 6f
	nop
6:	blt t2, t3, 7f       /* equal high words from here on */
	nop
7:	bge t3, t2, 8f
	nop
8:	bltu t2, t3, 9f
	nop
9:	bgeu t3, t2, 10f
	nop
10:	beq t2, t3, 11f
	bne t2, t3, 11f
	nop
11:	blt t3, t2, 12f
	bge t2, t3, 12f
	bltu t3, t2, 12f
	bgeu t2, t3, 12f
	nop
12:	jal ra, far_leaf     /* another page */
	la t4, far_leaf
	jalr ra, 0(t4)
	la t4, near_leaf
	jalr ra, t4
	call cross_page_insn
	call cross_page_branch
	mv ra, s9
	PHASE PH_BRANCH
	ret
near_leaf:
	addi a0, a0, 1
	ret

/* Zicsr (§6): all six forms on read/write, read-only and counter CSRs. */
cover_csr:
	csrr a0, sstatus
	csrr a0, sie
	csrr a0, sip
	csrr a0, stvec
	csrr a0, scounteren
	csrr a0, senvcfg
	csrr a0, satp
	csrr a0, sepc
	csrr a0, scause
	csrr a0, stval
	rdtime a0
	rdcycle a0
	rdinstret a0
	csrrw a0, sscratch, a0
	csrrw a0, sscratch, a0
	li t0, 0x200
	csrrs a0, sie, t0
	csrrc a0, sie, t0
	csrrs a0, sstatus, zero
	csrrwi a0, fflags, 3
	csrrsi a0, fflags, 4
	csrrci a0, fflags, 7
	csrwi frm, 0
	csrr a0, fcsr
	li t0, SSTATUS_SUM
	csrs sstatus, t0
	csrc sstatus, t0
	PHASE PH_CSR
	ret

/* A extension (§8): LR/SC success and failure, AMO .w and .d. */
cover_amo:
	li t0, DATA + 0x100
	li t1, 5
	sd t1, 0(t0)
	lr.d a0, (t0)
	addi a0, a0, 1
	sc.d a1, a0, (t0)
	sc.d a1, a0, (t0)    /* no reservation: fails */
	lr.w a0, (t0)
	sc.w a1, a0, (t0)
	lr.d.aqrl a0, (t0)
	sc.d.rl a1, a0, (t0)
	amoadd.w a0, t1, (t0)
	amoadd.d a0, t1, (t0)
	amoswap.w a0, t1, (t0)
	amoswap.d.aqrl a0, t1, (t0)
	amoor.w a0, t1, (t0)
	amoor.d a0, t1, (t0)
	amoand.w a0, t1, (t0)
	amoand.d a0, t1, (t0)
	amoxor.d a0, t1, (t0)
	amomax.w a0, t1, (t0)
	amomin.d a0, t1, (t0)
	amomaxu.d a0, t1, (t0)
	amominu.w a0, t1, (t0)
	PHASE PH_AMO
	ret

/* F and D (§11, §12): a few of each kind Linux user space may issue. */
cover_fp:
	li t0, DATA + 0x200
	li t1, 7
	fcvt.d.l fa0, t1
	fcvt.s.w fa1, t1
	fadd.d fa2, fa0, fa0
	fmul.d fa3, fa2, fa0
	fdiv.d fa4, fa3, fa2
	fsqrt.d fa5, fa4
	fmadd.d fa6, fa0, fa2, fa3
	fadd.s fa7, fa1, fa1
	fsd fa3, 0(t0)
	fld fa0, 0(t0)
	fsw fa7, 8(t0)
	flw fa1, 8(t0)
	fmv.x.d a0, fa0
	fmv.d.x fa0, a0
	fcvt.l.d a0, fa4
	feq.d a0, fa0, fa3
	flt.d a0, fa0, fa3
	fsgnj.d fa0, fa3, fa3
	frflags a0
	PHASE PH_FP
	ret

/* SBI calls the kernel answers in the software KVM (sbi/dispatch.ts): BASE, TIME, HSM, RFENCE,
 * and an unknown EID (NOT_SUPPORTED, no exit). */
cover_sbi:
	SBI_CALL SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION
	SBI_CALL SBI_EXT_BASE, SBI_BASE_GET_IMP_ID
	li a0, SBI_EXT_TIME
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	li a0, SBI_EXT_UNKNOWN
	SBI_CALL SBI_EXT_BASE, SBI_BASE_PROBE_EXT
	li a0, 0
	SBI_CALL SBI_EXT_HSM, SBI_HSM_HART_STATUS
	li a0, 1
	li a1, 0
	SBI_CALL SBI_EXT_RFENCE, SBI_RFENCE_REMOTE_FENCE_I
	li a0, 1
	li a1, 0
	li a2, 0
	li a3, -1
	SBI_CALL SBI_EXT_RFENCE, SBI_RFENCE_REMOTE_SFENCE_VMA
	SBI_CALL SBI_EXT_UNKNOWN, 0
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	PHASE PH_SBI
	ret

/* MMIO outside every slot: the software KVM exits to user space (warmup.ts completes it). */
cover_mmio:
	li t0, MMIO
	li t1, 0x41
	sb t1, 0(t0)
	lbu a0, 5(t0)
	sw t1, 4(t0)
	lw a0, 4(t0)
	PHASE PH_MMIO
	ret

/* Synchronous traps into the S handler and sret back: illegal instruction, ebreak, a load and a
 * store page fault (under Sv39, in cover_vm). Here: 2 entries. */
cover_trap:
	li t0, SAVE
	ld s8, SV_EXC(t0)
	unimp                /* csrrw x0, cycle, x0: illegal (read-only CSR), 4 bytes */
	ebreak
	li t0, SAVE
	ld t1, SV_EXC(t0)
	sub t1, t1, s8
	li t2, 2
	bne t1, t2, 1f
	PHASE PH_TRAP
1:	ret

/* The S timer interrupt (priv spec §10.1.3): taken while spinning with SIE set, taken right
 * after a wfi that had it pending with SIE clear, and after a wfi that blocks until it fires. */
cover_irq:
	li t0, SAVE
	ld s8, SV_IRQ(t0)
	li t0, 0x20          /* sie.STIE */
	csrs sie, t0
	rdtime a0
	addi a0, a0, 30
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	csrsi sstatus, 2
	li t0, SAVE
1:	ld t1, SV_IRQ(t0)    /* spin until the handler has counted it */
	beq t1, s8, 1b
	csrci sstatus, 2
	li a0, 0             /* in the past: pending at once */
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	wfi                  /* returns at once: an enabled interrupt is pending */
	csrsi sstatus, 2     /* taken here */
	nop
	csrci sstatus, 2
	rdtime a0
	addi a0, a0, 200
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	wfi                  /* blocks until the deadline */
	csrsi sstatus, 2
	nop
	csrci sstatus, 2
	li t0, 0x20
	csrc sie, t0
	li t0, SAVE
	ld t1, SV_IRQ(t0)
	sub t1, t1, s8
	li t2, 3
	bne t1, t2, 2f
	PHASE PH_IRQ
2:	ret

/* Once, at the end of the first pass: EVICT_PAGES more physical code pages (a `ret` written to
 * each, fence.i, called), past the decoded-page limit warmup.ts gives the throwaway hart (more
 * than this image's 13 code pages, fewer than 13 + EVICT_PAGES), so fetch misses take the
 * eviction path (cpu/hart.ts evictCodePages) as a long Linux boot does. Early, so Hart.run has
 * seen it before V8 optimises it; once, so the hot loops' pages are evicted and compiled again at
 * most once. */
cover_evict:
	mv s9, ra
	li t0, EVICT_CODE
	li t1, 0x00008067    /* ret */
	li t2, EVICT_PAGES
	li t3, 0x1000
1:	sw t1, 0(t0)
	add t0, t0, t3
	addi t2, t2, -1
	bnez t2, 1b
	fence.i
	li t0, EVICT_CODE
	li t2, EVICT_PAGES
2:	jalr ra, 0(t0)
	add t0, t0, t3
	addi t2, t2, -1
	bnez t2, 2b
	mv ra, s9
	PHASE PH_EVICT
	ret

/* Code patching as Linux does it (alternatives, modules): a store of a new instruction into a
 * not yet decoded slot of a decoded page, fence.i (Zifencei: the page's decoded code is dropped
 * because its bytes changed), running it; then a store over the decoded instruction (invalidated
 * at once) restoring the original, and fence.i again. patch_slot returns a0 + 2 while patched. */
cover_patch:
	mv s9, ra
	call patch_entry
	la t0, patch_slot
	li t1, 0x00250513    /* addi a0, a0, 2 */
	sw t1, 0(t0)
	fence.i
	call patch_entry
	li a0, 0
	call patch_slot
	li t1, 2
	bne a0, t1, 1f
	PHASE PH_PATCH
1:	la t0, patch_slot
	li t1, 0x00000013    /* nop */
	sw t1, 0(t0)
	fence.i
	call patch_slot
	mv ra, s9
	ret

/* Sv39 on: loads and stores through 4 KiB mappings (TLB misses), sfence.vma, a fetch through an
 * alias page, load/store/fetch page faults (invalid PTE, no permission), A/D updates, SUM access to a U page, a trip to U mode and its ecall back; off again. */
cover_vm:
	mv s9, ra
	li t0, SAVE
	ld s8, SV_EXC(t0)
	li t0, PT
	srli t0, t0, 12
	li t1, SATP_SV39
	or t0, t0, t1
	csrw satp, t0
	sfence.vma
	li t2, VA4K
	li t3, 0
	li t4, 8
1:	sd t3, 0(t2)         /* one store and load per page: 8 TLB misses */
	ld a0, 8(t2)
	lw a0, 0(t2)
	li t0, 0x1000
	add t2, t2, t0
	addi t3, t3, 1
	bltu t3, t4, 1b
	li t2, VA4K
	sfence.vma t2, zero
	ld a0, 0(t2)
	sfence.vma zero, zero
	li t2, VA_ALIAS
	jalr ra, 0(t2)       /* alias_page's first instruction, fetched through L0[10] */
	li t2, VA_INVALID
	ld a0, 0(t2)         /* load page fault (13): skipped by the handler */
	sd a0, 0(t2)         /* store page fault (15) */
	jalr ra, 0(t2)       /* instruction page fault (12): the handler returns to ra */
	li t2, VA_ALIAS
	sd a0, 0(t2)         /* store page fault (15): no W permission */
	SET_PTE L0 + 12 * 8, DATA + 0x9000, PTE_V | PTE_R | PTE_W
	li t2, VA_AD
	sfence.vma t2, zero
	ld a0, 0(t2)         /* A = 0: set by the walk (Svadu) */
	sd a0, 0(t2)         /* D = 0: set by the walk */
	li t0, SSTATUS_SUM
	csrs sstatus, t0
	li t2, VA_U_DATA
	sd t3, 0(t2)         /* S access to a U page with SUM */
	ld a0, 0(t2)
	li t0, SSTATUS_SUM
	csrc sstatus, t0
	li t0, MMIO          /* MMIO through the page tables */
	sb t3, 0(t0)
	lbu a0, 5(t0)
	call enter_user
	li t2, VA4K
	sfence.vma t2, zero  /* one page, with U mode's translations parked */
	li t0, SAVE
	ld t1, SV_EXC(t0)
	sub t1, t1, s8
	li t2, 4
	bne t1, t2, 2f
	ld t1, SV_UECALL(t0)
	beqz t1, 2f
	PHASE PH_VM
2:	csrw satp, zero
	sfence.vma
	mv ra, s9
	ret

/* sret to U mode at user_page (through L0[9]); its ecall comes back to enter_user_back in S. */
enter_user:
	li t0, SAVE
	la t1, enter_user_back
	sd t1, SV_UCONT(t0)
	li t1, VA_U_CODE
	csrw sepc, t1
	li t1, SSTATUS_SPP
	csrc sstatus, t1
	sret
enter_user_back:
	li t0, SAVE
	ld t1, SV_UECALL(t0)
	beqz t1, 1f
	PHASE PH_USER
1:	ret

/* ---------------------------------------------------------------------------------------------- */
/* The S trap handler (stvec, direct mode): the Linux pattern of swapping tp with sscratch to
 * reach a save area. Timer interrupt: disarm (set_timer(-1) clears STIP, SBI §6.1) and count.
 * U ecall: count, return to S at SV_UCONT. Instruction page fault: count, return to ra. Other
 * exceptions: count, skip the 4-byte instruction. */
	.balign 4
trap_handler:
	csrrw tp, sscratch, tp
	sd t5, SV_T5(tp)
	sd t6, SV_T6(tp)
	sd a0, SV_A0(tp)
	sd a1, SV_A1(tp)
	sd a6, SV_A6(tp)
	sd a7, SV_A7(tp)
	csrr t5, scause
	bltz t5, trap_irq
	li t6, 8
	beq t5, t6, trap_uecall
	li t6, 12
	bne t5, t6, 1f
	csrw sepc, ra        /* instruction page fault: back to the caller (cover_vm's jalr) */
	j 2f
1:	csrr t6, sepc
	addi t6, t6, 4
	csrw sepc, t6
2:	csrr t6, stval
	ld t6, SV_EXC(tp)
	addi t6, t6, 1
	sd t6, SV_EXC(tp)
	j trap_out
trap_irq:
	li a0, -1
	SBI_CALL SBI_EXT_TIME, SBI_TIME_SET_TIMER
	ld t6, SV_IRQ(tp)
	addi t6, t6, 1
	sd t6, SV_IRQ(tp)
	j trap_out
trap_uecall:
	ld t6, SV_UECALL(tp)
	addi t6, t6, 1
	sd t6, SV_UECALL(tp)
	ld t6, SV_UCONT(tp)
	csrw sepc, t6
	li t6, SSTATUS_SPP
	csrs sstatus, t6
trap_out:
	ld t5, SV_T5(tp)
	ld t6, SV_T6(tp)
	ld a0, SV_A0(tp)
	ld a1, SV_A1(tp)
	ld a6, SV_A6(tp)
	ld a7, SV_A7(tp)
	csrrw tp, sscratch, tp
	sret

/* ---------------------------------------------------------------------------------------------- */
/* Hot loops, one per code page: each is entered HOT_ITERS times (> warmup.ts
 * WARMUP_JIT_THRESHOLD) in the first pass, so each page gets its own compiled WebAssembly
 * function. They run with Sv39 on, as Linux does. */
	.balign 4096, 0
hot_loops:
	mv s9, ra
	li t0, PT
	srli t0, t0, 12
	li t1, SATP_SV39
	or t0, t0, t1
	csrw satp, t0
	sfence.vma
	call hot_memset
	call hot_copy
	call hot_hash
	call hot_branchy
	call hot_rvc
	csrw satp, zero
	sfence.vma
	PHASE PH_HOT
	mv ra, s9
	ret

	.balign 4096, 0
/* memset-like: 64 bytes per pass over 8 pages of VA4K, wrapping */
hot_memset:
	li t0, HOT_ITERS
	li t1, VA4K
	li t2, 0x7fff        /* 32 KiB window */
	li t3, 0
1:	and t4, t3, t2
	add t4, t4, t1
	sd zero, 0(t4)
	sd t0, 8(t4)
	sw t0, 16(t4)
	sh t0, 20(t4)
	sb t0, 22(t4)
	addi t3, t3, 64
	addi t0, t0, -1
	bnez t0, 1b
	ret

	.balign 4096, 0
/* memcpy-like with loads of every width */
hot_copy:
	li t0, HOT_ITERS
	li t1, VA4K
	li t2, 0x3fff
	li t3, 0
	li t6, 0x4000        /* destination: the upper half of the window */
1:	and t4, t3, t2
	add t4, t4, t1
	ld a0, 0(t4)
	lw a1, 8(t4)
	lhu a2, 12(t4)
	lb a3, 14(t4)
	add t5, t4, t6
	sd a0, 0(t5)
	sw a1, 8(t5)
	addi t3, t3, 16
	addi t0, t0, -1
	bnez t0, 1b
	ret

	.balign 4096, 0
/* hashing: multiplies with 64-bit products, shifts, W forms, a division now and then */
hot_hash:
	li t0, HOT_ITERS
	li a0, 0xcbf29ce484222325
	li a1, 0x100000001b3
1:	xor a0, a0, t0
	mul a0, a0, a1
	srli a2, a0, 29
	xor a0, a0, a2
	mulhu a3, a0, a1
	addw a4, a0, a3
	sraiw a4, a4, 3
	slt a5, a4, a0
	add a0, a0, a5
	andi a2, t0, 63
	bnez a2, 2f
	divu a3, a0, a1
	remw a4, a4, t0
2:	addi t0, t0, -1
	bnez t0, 1b
	ret

	.balign 4096, 0
/* branchy: a call to another page and data-dependent branches (block chaining and side exits) */
hot_branchy:
	mv s7, ra
	li t0, HOT_ITERS
	li a0, 0
1:	andi a1, t0, 3
	beqz a1, 2f
	addi a0, a0, 3
	bltu a1, t0, 3f
2:	addi a0, a0, -1
3:	andi a1, t0, 255
	bnez a1, 4f
	jal ra, far_leaf
4:	addi t0, t0, -1
	bgtz t0, 1b
	mv ra, s7
	ret

	.balign 4096, 0
/* compressed code, as most of Linux is */
	.option push
	.option rvc
hot_rvc:
	li a2, HOT_ITERS
	li a0, 0
	li a3, DATA + 0x800
1:	c.addi a0, 5
	c.slli a0, 1
	c.srli a0, 1
	c.sw a0, 0(a3)
	c.lw a1, 0(a3)
	c.add a0, a1
	c.andi a0, 15
	c.addi a2, -1
	c.bnez a2, 1b
	c.jr ra
	.option pop
cross_back:               /* target of cross_page_branch, in the page where that branch starts */
	beq zero, zero, far_leaf  /* a taken branch to the next page; far_leaf returns */

/* A taken branch that straddles this page and the next one, back into this page. */
	.org hot_rvc + 4094
cross_page_branch:
	beq zero, zero, cross_back

/* ---------------------------------------------------------------------------------------------- */
	.balign 4, 0
far_leaf:
	addi a0, a0, 1
	ret

/* cover_patch's code page: patch_slot is only decoded after it was patched. */
	.balign 4096, 0
patch_entry:
	addi a0, a0, 1
	ret
patch_slot:
	nop
	ret

/* RVC (§16): every quadrant's common forms, as Linux is built with them. On the patched page, so
 * cover_patch's store over a decoded instruction makes every pass decode them again (the decoder,
 * cpu/decode.ts, then has type feedback for them too). */
cover_rvc:
	.option push
	.option rvc
	addi sp, sp, -64
	c.li a0, -7
	c.li a1, 12
	c.addi a0, 3
	c.addiw a0, -1
	c.lui a2, 0x1f
	c.addi16sp sp, -32
	c.addi16sp sp, 32
	c.addi4spn a3, sp, 16
	c.slli a0, 3
	c.srli a1, 1
	c.srai a0, 2
	c.andi a0, -3
	c.sub a0, a1
	c.xor a0, a1
	c.or a0, a1
	c.and a0, a1
	c.subw a0, a1
	c.addw a0, a1
	c.mv a4, a0
	c.add a4, a1
	c.sw a0, 0(a3)
	c.lw a5, 0(a3)
	c.sd a0, 8(a3)
	c.ld a5, 8(a3)
	c.swsp a0, 4(sp)
	c.lwsp a5, 4(sp)
	c.sdsp a1, 24(sp)
	c.ldsp a5, 24(sp)
	c.fsdsp fa0, 32(sp)
	c.fldsp fa1, 32(sp)
	c.fsd fa0, 8(a3)
	c.fld fa1, 8(a3)
	c.li a0, 0
	c.beqz a0, 1f
	c.nop
1:	c.bnez a0, 2f
	c.li a0, 1
	c.bnez a0, 2f
	c.nop
2:	c.beqz a0, 3f
	c.j 3f
	c.nop
3:	la a5, rvc_leaf
	mv t6, ra
	c.jalr a5
	mv ra, t6
	addi sp, sp, 64
	PHASE PH_RVC
	.option pop
	ret
	.option push
	.option rvc
rvc_leaf:
	c.addi a0, 1
	c.jr ra
	.option pop


/* S code reached through the S-only 4 KiB alias L0[10] (its own VA page): a few instructions and
 * a return to the identity-mapped caller. */
	.balign 4096, 0
alias_page:
	addi a0, a0, 1
	xori a0, a0, 3
	ret

/* U-mode code, mapped U at VA_U_CODE (L0[9]): touches the U data page, then ecall (cause 8). */
	.balign 4096, 0
user_page:
	li t0, VA_U_DATA
	sd t0, 16(t0)
	ld a0, 16(t0)
	lw a1, 16(t0)
	addi a0, a0, 1
	ecall
1:	j 1b

/* A 32-bit instruction at the last halfword of a page, so it straddles into the next one. */
	.balign 4096, 0
	.skip 4094
cross_page_insn:
	addi a0, a0, 1
	ret
