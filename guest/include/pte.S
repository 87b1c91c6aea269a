/*
 * Page-table entry flags and writers for the guest programs that build Sv39/Sv48 tables (guest/isa/vm.S,
 * guest/warmup/warmup.S). A leaf or pointer PTE holds the physical page number at bit 10 and the
 * flags below it (privileged spec §12.4.1, "Sv39 page table entry"): ((pa >> 12) << 10) | flags.
 * Both clobber t0 and t1.
 */

/* PTE flag bits (privileged spec §12.4.1): valid, read, write, execute, user, accessed, dirty. */
	.equ PTE_V, 0x01
	.equ PTE_R, 0x02
	.equ PTE_W, 0x04
	.equ PTE_X, 0x08
	.equ PTE_U, 0x10
	.equ PTE_A, 0x40
	.equ PTE_D, 0x80

/* PTE for physical address pa with flags -> *(slot) */
.macro SET_PTE slot, pa, flags
	li t0, \pa
	SET_PTE_REG \slot, t0, \flags
.endm

/* The same, the physical address in a register */
.macro SET_PTE_REG slot, reg, flags
	srli t0, \reg, 12
	slli t0, t0, 10
	ori t0, t0, \flags
	li t1, \slot
	sd t0, 0(t1)
.endm
