/*
 * Page-table entry writers for the guest programs that build Sv39/Sv48 tables (guest/isa/vm.S,
 * guest/warmup/warmup.S). A leaf or pointer PTE holds the physical page number at bit 10 and the
 * flags below it (privileged spec §12.4.1, "Sv39 page table entry"): ((pa >> 12) << 10) | flags.
 * Both clobber t0 and t1.
 */

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
