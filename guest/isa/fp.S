/*
 * isa-fp: the F and D extensions (unprivileged spec ch. 11 "F", ch. 12 "D"; IEEE 754-2008).
 * Operands and results are raw bit patterns; singles are written unboxed in the macros below,
 * which NaN-box them (upper 32 bits all ones, §12.2) on the way in and expect boxed results.
 * fflags are checked after every case (NV 0x10, DZ 0x08, OF 0x04, UF 0x02, NX 0x01; §11.2) and
 * cleared for the next. Rounding modes: rne rtz rdn rup rmm (§11.2 Table 11.1).
 *
 * Values used (hex -> meaning; all exactly representable, derivations in the comments):
 *   D: 3ff0000000000000 1.0, 4000000000000000 2.0, 3fe0000000000000 0.5, 3ca0000000000000 2^-53,
 *      3c90000000000000 2^-54, 3ff0000000000001 1+2^-52, 3feffffffffffffe 1-2^-52,
 *      7ff8000000000000 canonical NaN, 7ff0000000000001 sNaN, 7ff0000000000000 +inf,
 *      0010000000000000 min normal, 0000000000000001 min subnormal, 7fefffffffffffff max
 *   S: 3f800000 1.0, 40000000 2.0, 3f000000 0.5, 33800000 2^-24, 33000000 2^-25,
 *      3f800001 1+2^-23, 3f7ffffe 1-2^-23, 7fc00000 canonical NaN, 7f800001 sNaN, 7f800000 inf,
 *      00800000 min normal, 00000001 min subnormal, 7f7fffff max
 */
	.include "isa.inc"

	.equ BOX, 0xffffffff00000000
	.equ NV, 0x10
	.equ DZ, 0x08
	.equ OF, 0x04
	.equ UF, 0x02
	.equ NX, 0x01

.macro LD_D freg, bits
	li t0, \bits
	fmv.d.x \freg, t0
.endm
.macro LD_S freg, bits
	li t0, BOX | (\bits)
	fmv.d.x \freg, t0
.endm

/* D2R op, a, b, rm, result, flags: op.d with a rounding mode */
.macro D2R op, a, b, rm, res, fl
	LD_D fa0, \a
	LD_D fa1, \b
	\op fa2, fa0, fa1, \rm
	CHECK_F fa2, \res
	CHECK_FLAGS \fl
.endm
.macro S2R op, a, b, rm, res, fl
	LD_S fa0, \a
	LD_S fa1, \b
	\op fa2, fa0, fa1, \rm
	CHECK_F fa2, BOX | (\res)
	CHECK_FLAGS \fl
.endm
/* two operands, no rounding mode (fmin/fmax/fsgnj*) */
.macro D2 op, a, b, res, fl
	LD_D fa0, \a
	LD_D fa1, \b
	\op fa2, fa0, fa1
	CHECK_F fa2, \res
	CHECK_FLAGS \fl
.endm
.macro S2 op, a, b, res, fl
	LD_S fa0, \a
	LD_S fa1, \b
	\op fa2, fa0, fa1
	CHECK_F fa2, BOX | (\res)
	CHECK_FLAGS \fl
.endm
/* compares: integer result */
.macro DCMP op, a, b, res, fl
	LD_D fa0, \a
	LD_D fa1, \b
	\op a2, fa0, fa1
	CHECK a2, \res
	CHECK_FLAGS \fl
.endm
.macro SCMP op, a, b, res, fl
	LD_S fa0, \a
	LD_S fa1, \b
	\op a2, fa0, fa1
	CHECK a2, \res
	CHECK_FLAGS \fl
.endm
/* fused: op rd = f(a, b, c) */
.macro D3R op, a, b, c, rm, res, fl
	LD_D fa0, \a
	LD_D fa1, \b
	LD_D fa3, \c
	\op fa2, fa0, fa1, fa3, \rm
	CHECK_F fa2, \res
	CHECK_FLAGS \fl
.endm
.macro S3R op, a, b, c, rm, res, fl
	LD_S fa0, \a
	LD_S fa1, \b
	LD_S fa3, \c
	\op fa2, fa0, fa1, fa3, \rm
	CHECK_F fa2, BOX | (\res)
	CHECK_FLAGS \fl
.endm
/* one FP operand -> FP (fsqrt, fcvt.s.d, fcvt.d.s) */
.macro D1R op, a, rm, res, fl
	LD_D fa0, \a
	\op fa2, fa0, \rm
	CHECK_F fa2, \res
	CHECK_FLAGS \fl
.endm
/* double operand -> single result (boxed) */
.macro DS1R op, a, rm, res, fl
	LD_D fa0, \a
	\op fa2, fa0, \rm
	CHECK_F fa2, BOX | (\res)
	CHECK_FLAGS \fl
.endm
.macro S1R op, a, rm, res, fl
	LD_S fa0, \a
	\op fa2, fa0, \rm
	CHECK_F fa2, BOX | (\res)
	CHECK_FLAGS \fl
.endm
/* FP -> integer register */
.macro D2I op, a, rm, res, fl
	LD_D fa0, \a
	\op a2, fa0, \rm
	CHECK a2, \res
	CHECK_FLAGS \fl
.endm
.macro S2I op, a, rm, res, fl
	LD_S fa0, \a
	\op a2, fa0, \rm
	CHECK a2, \res
	CHECK_FLAGS \fl
.endm
/* integer -> FP; resbits is the full 64-bit register value */
.macro I2F op, a, rm, resbits, fl
	li a0, \a
	\op fa2, a0, \rm
	CHECK_F fa2, \resbits
	CHECK_FLAGS \fl
.endm
/* integer -> FP conversions that are always exact (no rm operand) */
.macro I2FE op, a, resbits
	li a0, \a
	\op fa2, a0
	CHECK_F fa2, \resbits
	CHECK_FLAGS 0
.endm
.macro DCLASS a, res
	LD_D fa0, \a
	fclass.d a2, fa0
	CHECK a2, \res
.endm
.macro SCLASS a, res
	LD_S fa0, \a
	fclass.s a2, fa0
	CHECK a2, \res
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	ISA_START
	csrw fcsr, zero

t_round_add: /* 1 + 2^-53 is the tie between 1.0 and 1+2^-52 (even: 1.0; away: 1+2^-52) */
	D2R fadd.d, 0x3ff0000000000000, 0x3ca0000000000000, rne, 0x3ff0000000000000, NX
	D2R fadd.d, 0x3ff0000000000000, 0x3ca0000000000000, rtz, 0x3ff0000000000000, NX
	D2R fadd.d, 0x3ff0000000000000, 0x3ca0000000000000, rdn, 0x3ff0000000000000, NX
	D2R fadd.d, 0x3ff0000000000000, 0x3ca0000000000000, rup, 0x3ff0000000000001, NX
	D2R fadd.d, 0x3ff0000000000000, 0x3ca0000000000000, rmm, 0x3ff0000000000001, NX
	/* negated: -(1 + 2^-53); rdn/rmm go away from zero, rup/rtz toward */
	D2R fadd.d, 0xbff0000000000000, 0xbca0000000000000, rne, 0xbff0000000000000, NX
	D2R fadd.d, 0xbff0000000000000, 0xbca0000000000000, rtz, 0xbff0000000000000, NX
	D2R fadd.d, 0xbff0000000000000, 0xbca0000000000000, rdn, 0xbff0000000000001, NX
	D2R fadd.d, 0xbff0000000000000, 0xbca0000000000000, rup, 0xbff0000000000000, NX
	D2R fadd.d, 0xbff0000000000000, 0xbca0000000000000, rmm, 0xbff0000000000001, NX
	D2R fadd.d, 0x3ff0000000000000, 0x4000000000000000, rne, 0x4008000000000000, 0	/* 1+2 = 3 exact */
	S2R fadd.s, 0x3f800000, 0x33800000, rne, 0x3f800000, NX
	S2R fadd.s, 0x3f800000, 0x33800000, rtz, 0x3f800000, NX
	S2R fadd.s, 0x3f800000, 0x33800000, rdn, 0x3f800000, NX
	S2R fadd.s, 0x3f800000, 0x33800000, rup, 0x3f800001, NX
	S2R fadd.s, 0x3f800000, 0x33800000, rmm, 0x3f800001, NX
	S2R fadd.s, 0x3f800000, 0x40000000, rne, 0x40400000, 0
t_round_sub: /* 1 - 2^-54 (D) / 1 - 2^-25 (S): tie between 1-ulp/2 below 1.0 and 1.0 (even) */
	D2R fsub.d, 0x3ff0000000000000, 0x3c90000000000000, rne, 0x3ff0000000000000, NX
	D2R fsub.d, 0x3ff0000000000000, 0x3c90000000000000, rtz, 0x3fefffffffffffff, NX
	D2R fsub.d, 0x3ff0000000000000, 0x3c90000000000000, rdn, 0x3fefffffffffffff, NX
	D2R fsub.d, 0x3ff0000000000000, 0x3c90000000000000, rup, 0x3ff0000000000000, NX
	D2R fsub.d, 0x3ff0000000000000, 0x3c90000000000000, rmm, 0x3ff0000000000000, NX
	S2R fsub.s, 0x3f800000, 0x33000000, rne, 0x3f800000, NX
	S2R fsub.s, 0x3f800000, 0x33000000, rtz, 0x3f7fffff, NX
	S2R fsub.s, 0x3f800000, 0x33000000, rdn, 0x3f7fffff, NX
	S2R fsub.s, 0x3f800000, 0x33000000, rup, 0x3f800000, NX
	S2R fsub.s, 0x3f800000, 0x33000000, rmm, 0x3f800000, NX
t_round_mul: /* (1+ulp)^2 = 1 + 2ulp + ulp^2: only rup goes up */
	D2R fmul.d, 0x3ff0000000000001, 0x3ff0000000000001, rne, 0x3ff0000000000002, NX
	D2R fmul.d, 0x3ff0000000000001, 0x3ff0000000000001, rtz, 0x3ff0000000000002, NX
	D2R fmul.d, 0x3ff0000000000001, 0x3ff0000000000001, rdn, 0x3ff0000000000002, NX
	D2R fmul.d, 0x3ff0000000000001, 0x3ff0000000000001, rup, 0x3ff0000000000003, NX
	D2R fmul.d, 0x3ff0000000000001, 0x3ff0000000000001, rmm, 0x3ff0000000000002, NX
	S2R fmul.s, 0x3f800001, 0x3f800001, rne, 0x3f800002, NX
	S2R fmul.s, 0x3f800001, 0x3f800001, rtz, 0x3f800002, NX
	S2R fmul.s, 0x3f800001, 0x3f800001, rdn, 0x3f800002, NX
	S2R fmul.s, 0x3f800001, 0x3f800001, rup, 0x3f800003, NX
	S2R fmul.s, 0x3f800001, 0x3f800001, rmm, 0x3f800002, NX
t_round_div: /* 1/3: D = 1.0101..(01|0101..) rounds down to ..55; S = 1.0101..(0|1010..) rounds up to ..ab */
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, rne, 0x3fd5555555555555, NX
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, rtz, 0x3fd5555555555555, NX
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, rdn, 0x3fd5555555555555, NX
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, rup, 0x3fd5555555555556, NX
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, rmm, 0x3fd5555555555555, NX
	D2R fdiv.d, 0xbff0000000000000, 0x4008000000000000, rdn, 0xbfd5555555555556, NX
	D2R fdiv.d, 0xbff0000000000000, 0x4008000000000000, rup, 0xbfd5555555555555, NX
	S2R fdiv.s, 0x3f800000, 0x40400000, rne, 0x3eaaaaab, NX
	S2R fdiv.s, 0x3f800000, 0x40400000, rtz, 0x3eaaaaaa, NX
	S2R fdiv.s, 0x3f800000, 0x40400000, rdn, 0x3eaaaaaa, NX
	S2R fdiv.s, 0x3f800000, 0x40400000, rup, 0x3eaaaaab, NX
	S2R fdiv.s, 0x3f800000, 0x40400000, rmm, 0x3eaaaaab, NX
	S2R fdiv.s, 0xbf800000, 0x40400000, rtz, 0xbeaaaaaa, NX
	S2R fdiv.s, 0xbf800000, 0x40400000, rdn, 0xbeaaaaab, NX
	D2R fdiv.d, 0x3ff0000000000000, 0x8000000000000000, rne, 0xfff0000000000000, DZ	/* 1/-0 = -inf */
	D2R fdiv.d, 0x0000000000000000, 0x0000000000000000, rne, 0x7ff8000000000000, NV	/* 0/0 */
	S2R fdiv.s, 0x7f800000, 0x7f800000, rne, 0x7fc00000, NV				/* inf/inf */
	D2R fdiv.d, 0x4000000000000000, 0x3fe0000000000000, rne, 0x4010000000000000, 0	/* 2/0.5 = 4 */
t_round_sqrt: /* sqrt(2): D nearest 0x3ff6a09e667f3bcd is above, S nearest 0x3fb504f3 below */
	D1R fsqrt.d, 0x4000000000000000, rne, 0x3ff6a09e667f3bcd, NX
	D1R fsqrt.d, 0x4000000000000000, rtz, 0x3ff6a09e667f3bcc, NX
	D1R fsqrt.d, 0x4000000000000000, rdn, 0x3ff6a09e667f3bcc, NX
	D1R fsqrt.d, 0x4000000000000000, rup, 0x3ff6a09e667f3bcd, NX
	D1R fsqrt.d, 0x4000000000000000, rmm, 0x3ff6a09e667f3bcd, NX
	S1R fsqrt.s, 0x40000000, rne, 0x3fb504f3, NX
	S1R fsqrt.s, 0x40000000, rtz, 0x3fb504f3, NX
	S1R fsqrt.s, 0x40000000, rdn, 0x3fb504f3, NX
	S1R fsqrt.s, 0x40000000, rup, 0x3fb504f4, NX
	S1R fsqrt.s, 0x40000000, rmm, 0x3fb504f3, NX
	D1R fsqrt.d, 0x4010000000000000, rne, 0x4000000000000000, 0	/* sqrt 4 = 2 exact */
	D1R fsqrt.d, 0xbff0000000000000, rne, 0x7ff8000000000000, NV	/* sqrt -1 */
	D1R fsqrt.d, 0x8000000000000000, rne, 0x8000000000000000, 0	/* sqrt -0 = -0 */
	S1R fsqrt.s, 0x7f800000, rne, 0x7f800000, 0			/* sqrt inf */
	S1R fsqrt.s, 0xff800000, rne, 0x7fc00000, NV			/* sqrt -inf */
t_dynamic_rm: /* rm = dyn takes frm; frm 5..7 with dyn is illegal (§11.2) */
	csrwi frm, 3						/* RUP */
	D2R fdiv.d, 0x3ff0000000000000, 0x4008000000000000, dyn, 0x3fd5555555555556, NX
	csrwi frm, 1						/* RTZ */
	S2R fdiv.s, 0x3f800000, 0x40400000, dyn, 0x3eaaaaaa, NX
	csrr a0, frm
	CHECK a0, 1
	csrr a0, fcsr
	CHECK a0, 0x20						/* frm << 5 | fflags */
	csrwi fflags, 0x1f
	csrr a0, fcsr
	CHECK a0, 0x3f
	csrwi fcsr, 0
	csrwi frm, 5
	TAKE_TRAP a0, a1
insn_fadd_dyn5:
	fadd.d fa2, fa0, fa1, dyn
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	csrwi frm, 0
	TAKE_TRAP a0, a1
insn_fadd_rm5:
	.word 0x00c5d553			/* fadd.s fa0, fa1, fa2 with rm = 5: 12<<20 | 11<<15 | 5<<12 | 10<<7 | 0x53 */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	CHECK a1, 0x00c5d553			/* stval = instruction bits */
	CHECK_FLAGS 0
t_fused: /* (1+u)(1-u) = 1 - u^2 exactly; only a fused op keeps the -u^2 (D: 2^-104, S: 2^-46) */
	D3R fmadd.d, 0x3ff0000000000001, 0x3feffffffffffffe, 0xbff0000000000000, rne, 0xb970000000000000, 0
	D3R fmsub.d, 0x3ff0000000000001, 0x3feffffffffffffe, 0x3ff0000000000000, rne, 0xb970000000000000, 0
	D3R fnmadd.d, 0x3ff0000000000001, 0x3feffffffffffffe, 0xbff0000000000000, rne, 0x3970000000000000, 0
	D3R fnmsub.d, 0x3ff0000000000001, 0x3feffffffffffffe, 0x3ff0000000000000, rne, 0x3970000000000000, 0
	S3R fmadd.s, 0x3f800001, 0x3f7ffffe, 0xbf800000, rne, 0xa8800000, 0
	S3R fmsub.s, 0x3f800001, 0x3f7ffffe, 0x3f800000, rne, 0xa8800000, 0
	S3R fnmadd.s, 0x3f800001, 0x3f7ffffe, 0xbf800000, rne, 0x28800000, 0
	S3R fnmsub.s, 0x3f800001, 0x3f7ffffe, 0x3f800000, rne, 0x28800000, 0
	/* one rounding at the end: 1*1 + 2^-24 is a tie (S) */
	S3R fmadd.s, 0x3f800000, 0x3f800000, 0x33800000, rne, 0x3f800000, NX
	S3R fmadd.s, 0x3f800000, 0x3f800000, 0x33800000, rup, 0x3f800001, NX
	D3R fmadd.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, rmm, 0x3ff0000000000001, NX
	D3R fmadd.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, rtz, 0x3ff0000000000000, NX
	/* every rounding mode on a tie after the single rounding: fmadd/fmsub give 1 + half-ulp,
	   fnmadd/fnmsub give -(1 + half-ulp) */
.irp rm, rne, rtz, rdn, rup, rmm
	.ifc \rm, rne
	.set d_pos, 0x3ff0000000000000
	.set d_neg, 0xbff0000000000000
	.set s_pos, 0x3f800000
	.set s_neg, 0xbf800000
	.endif
	.ifc \rm, rtz
	.set d_pos, 0x3ff0000000000000
	.set d_neg, 0xbff0000000000000
	.set s_pos, 0x3f800000
	.set s_neg, 0xbf800000
	.endif
	.ifc \rm, rdn
	.set d_pos, 0x3ff0000000000000
	.set d_neg, 0xbff0000000000001
	.set s_pos, 0x3f800000
	.set s_neg, 0xbf800001
	.endif
	.ifc \rm, rup
	.set d_pos, 0x3ff0000000000001
	.set d_neg, 0xbff0000000000000
	.set s_pos, 0x3f800001
	.set s_neg, 0xbf800000
	.endif
	.ifc \rm, rmm
	.set d_pos, 0x3ff0000000000001
	.set d_neg, 0xbff0000000000001
	.set s_pos, 0x3f800001
	.set s_neg, 0xbf800001
	.endif
	D3R fmadd.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, \rm, d_pos, NX
	D3R fmsub.d, 0x3ff0000000000000, 0x3ff0000000000000, 0xbca0000000000000, \rm, d_pos, NX
	D3R fnmadd.d, 0x3ff0000000000000, 0x3ff0000000000000, 0x3ca0000000000000, \rm, d_neg, NX
	D3R fnmsub.d, 0x3ff0000000000000, 0x3ff0000000000000, 0xbca0000000000000, \rm, d_neg, NX
	S3R fmadd.s, 0x3f800000, 0x3f800000, 0x33800000, \rm, s_pos, NX
	S3R fmsub.s, 0x3f800000, 0x3f800000, 0xb3800000, \rm, s_pos, NX
	S3R fnmadd.s, 0x3f800000, 0x3f800000, 0x33800000, \rm, s_neg, NX
	S3R fnmsub.s, 0x3f800000, 0x3f800000, 0xb3800000, \rm, s_neg, NX
.endr
	/* inf * 0 + qNaN: invalid even with a quiet NaN addend (§11.6) */
	D3R fmadd.d, 0x7ff0000000000000, 0x0000000000000000, 0x7ff8000000000000, rne, 0x7ff8000000000000, NV
	S3R fmadd.s, 0x00000000, 0x7f800000, 0x7fc00000, rne, 0x7fc00000, NV
	/* x*y - x*y with exact product: +0 in rne, -0 in rdn (IEEE 754 §6.3) */
	D3R fmsub.d, 0x4000000000000000, 0x4008000000000000, 0x4018000000000000, rne, 0x0000000000000000, 0
	D3R fmsub.d, 0x4000000000000000, 0x4008000000000000, 0x4018000000000000, rdn, 0x8000000000000000, 0
t_nan: /* results that are NaN are the canonical NaN (§11.3); sNaN inputs raise NV */
	D2R fadd.d, 0x7ff8000000000123, 0x3ff0000000000000, rne, 0x7ff8000000000000, 0
	D2R fadd.d, 0x7ff0000000000001, 0x3ff0000000000000, rne, 0x7ff8000000000000, NV
	D2R fmul.d, 0xfff8000000000abc, 0xfff8000000000def, rne, 0x7ff8000000000000, 0
	S2R fadd.s, 0x7fc00123, 0x3f800000, rne, 0x7fc00000, 0
	S2R fsub.s, 0x7f800001, 0x3f800000, rne, 0x7fc00000, NV
	D2R fsub.d, 0x7ff0000000000000, 0x7ff0000000000000, rne, 0x7ff8000000000000, NV	/* inf - inf */
	/* fmin/fmax: the non-NaN operand when one is NaN; canonical NaN when both; sNaN -> NV;
	   -0 < +0 (§11.6, IEEE 754-2019 minimumNumber/maximumNumber) */
	D2 fmin.d, 0x7ff0000000000001, 0x3ff0000000000000, 0x3ff0000000000000, NV
	D2 fmax.d, 0x7ff8000000000000, 0xbff0000000000000, 0xbff0000000000000, 0
	D2 fmin.d, 0x7ff8000000000001, 0x7ff8000000000002, 0x7ff8000000000000, 0
	D2 fmin.d, 0x0000000000000000, 0x8000000000000000, 0x8000000000000000, 0
	D2 fmax.d, 0x8000000000000000, 0x0000000000000000, 0x0000000000000000, 0
	D2 fmin.d, 0x3ff0000000000000, 0x4000000000000000, 0x3ff0000000000000, 0
	D2 fmax.d, 0x3ff0000000000000, 0x4000000000000000, 0x4000000000000000, 0
	D2 fmax.d, 0xfff0000000000000, 0x0000000000000001, 0x0000000000000001, 0
	S2 fmin.s, 0x7f800001, 0x3f800000, 0x3f800000, NV
	S2 fmax.s, 0x7fc00000, 0x7fc00000, 0x7fc00000, 0
	S2 fmin.s, 0x80000000, 0x00000000, 0x80000000, 0
	S2 fmax.s, 0x80000000, 0x00000000, 0x00000000, 0
	S2 fmin.s, 0xc0000000, 0x3f800000, 0xc0000000, 0
	S2 fmax.s, 0xc0000000, 0x3f800000, 0x3f800000, 0
	/* sign injection copies bits, NaN payloads included (§11.6) */
	D2 fsgnj.d, 0x3ff0000000000000, 0x8000000000000000, 0xbff0000000000000, 0
	D2 fsgnjn.d, 0x3ff0000000000000, 0xbff0000000000000, 0x3ff0000000000000, 0
	D2 fsgnjx.d, 0xbff0000000000000, 0xbff0000000000000, 0x3ff0000000000000, 0
	D2 fsgnjn.d, 0x7ff8000000000123, 0x7ff8000000000123, 0xfff8000000000123, 0
	D2 fsgnj.d, 0x7ff0000000000001, 0x0000000000000000, 0x7ff0000000000001, 0	/* no NV */
	S2 fsgnj.s, 0x3f800000, 0xbf800000, 0xbf800000, 0
	S2 fsgnjn.s, 0x3f800000, 0x3f800000, 0xbf800000, 0
	S2 fsgnjx.s, 0xbf800000, 0x3f800000, 0xbf800000, 0
	S2 fsgnjx.s, 0x7fc00abc, 0x80000000, 0xffc00abc, 0
t_cmp: /* feq is quiet (NV only for sNaN), flt/fle signal on any NaN (§11.8) */
	DCMP feq.d, 0x3ff0000000000000, 0x3ff0000000000000, 1, 0
	DCMP feq.d, 0x0000000000000000, 0x8000000000000000, 1, 0
	DCMP feq.d, 0x7ff8000000000000, 0x7ff8000000000000, 0, 0
	DCMP feq.d, 0x7ff0000000000001, 0x3ff0000000000000, 0, NV
	DCMP flt.d, 0x8000000000000000, 0x0000000000000000, 0, 0
	DCMP flt.d, 0xbff0000000000000, 0x3ff0000000000000, 1, 0
	DCMP flt.d, 0x7ff8000000000000, 0x3ff0000000000000, 0, NV
	DCMP fle.d, 0x3ff0000000000000, 0x3ff0000000000000, 1, 0
	DCMP fle.d, 0x4000000000000000, 0x3ff0000000000000, 0, 0
	DCMP fle.d, 0x3ff0000000000000, 0x7ff8000000000000, 0, NV
	DCMP flt.d, 0xfff0000000000000, 0x7ff0000000000000, 1, 0
	SCMP feq.s, 0x3f800000, 0x3f800000, 1, 0
	SCMP feq.s, 0x7fc00000, 0x3f800000, 0, 0
	SCMP feq.s, 0x7f800001, 0x3f800000, 0, NV
	SCMP flt.s, 0xbf800000, 0x3f800000, 1, 0
	SCMP flt.s, 0x7fc00000, 0x3f800000, 0, NV
	SCMP fle.s, 0x80000000, 0x00000000, 1, 0
	SCMP fle.s, 0x7fc00000, 0x7fc00000, 0, NV
t_class: /* fclass one-hot (§11.9 Table 11.5) */
	DCLASS 0xfff0000000000000, 1
	DCLASS 0xbff0000000000000, 2
	DCLASS 0x800fffffffffffff, 4
	DCLASS 0x8000000000000000, 8
	DCLASS 0x0000000000000000, 16
	DCLASS 0x0000000000000001, 32
	DCLASS 0x7fefffffffffffff, 64
	DCLASS 0x7ff0000000000000, 128
	DCLASS 0x7ff0000000000001, 256
	DCLASS 0x7ff8000000000000, 512
	SCLASS 0xff800000, 1
	SCLASS 0xc0000000, 2
	SCLASS 0x80000001, 4
	SCLASS 0x80000000, 8
	SCLASS 0x00000000, 16
	SCLASS 0x007fffff, 32
	SCLASS 0x00800000, 64
	SCLASS 0x7f800000, 128
	SCLASS 0x7fbfffff, 256
	SCLASS 0x7fc00001, 512
	CHECK_FLAGS 0				/* fclass raises nothing */
t_boxing: /* §12.2: a single operand whose upper 32 bits are not all ones is the canonical NaN */
	li t0, 0x000000003f800000		/* 1.0f, not boxed */
	fmv.d.x fa0, t0
	fadd.s fa2, fa0, fa0
	CHECK_F fa2, 0xffffffff7fc00000
	CHECK_FLAGS 0				/* canonical NaN is quiet: no NV */
	fsgnj.s fa2, fa0, fa0
	CHECK_F fa2, 0xffffffff7fc00000
	fclass.s a2, fa0
	CHECK a2, 512
	li t0, 0xfffffffe3f800000		/* one zero bit is enough */
	fmv.d.x fa0, t0
	fmul.s fa2, fa0, fa0
	CHECK_F fa2, 0xffffffff7fc00000
	feq.s a2, fa0, fa0
	CHECK a2, 0
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0x7ff8000000000000
	CHECK_FLAGS 0
	/* transfers do not check boxing: fmv.x.w and fsw move bits [31:0] */
	li t0, 0x00000000bf800000
	fmv.d.x fa0, t0
	fmv.x.w a2, fa0
	CHECK a2, 0xffffffffbf800000		/* sign-extended from bit 31 */
	la s0, fpmem
	fsw fa0, 0(s0)
	lwu a2, 0(s0)
	CHECK a2, 0xbf800000
	li t0, 0x12345678
	sw t0, 0(s0)
	flw fa1, 0(s0)				/* loads box */
	CHECK_F fa1, 0xffffffff12345678
	li t0, 0xaaaaaaaa40490fdb
	fmv.w.x fa1, t0				/* fmv.w.x boxes the low word */
	CHECK_F fa1, 0xffffffff40490fdb
	li t0, 0x0123456789abcdef
	sd t0, 8(s0)
	fld fa1, 8(s0)
	CHECK_F fa1, 0x0123456789abcdef
	fsd fa1, 16(s0)
	ld a2, 16(s0)
	CHECK a2, 0x0123456789abcdef
	li t0, 0xfff0000000000001
	fmv.d.x fa1, t0
	fmv.x.d a2, fa1
	CHECK a2, 0xfff0000000000001		/* an sNaN moves untouched */
	CHECK_FLAGS 0
t_zero: /* signed zeros (IEEE 754 §6.3) */
	D2R fadd.d, 0x0000000000000000, 0x8000000000000000, rne, 0x0000000000000000, 0
	D2R fadd.d, 0x0000000000000000, 0x8000000000000000, rdn, 0x8000000000000000, 0
	D2R fadd.d, 0x8000000000000000, 0x8000000000000000, rne, 0x8000000000000000, 0
	D2R fsub.d, 0x3ff0000000000000, 0x3ff0000000000000, rne, 0x0000000000000000, 0
	D2R fsub.d, 0x3ff0000000000000, 0x3ff0000000000000, rdn, 0x8000000000000000, 0
	D2R fmul.d, 0x8000000000000000, 0x4014000000000000, rne, 0x8000000000000000, 0
	S2R fsub.s, 0x00000000, 0x00000000, rdn, 0x80000000, 0
	S2R fmul.s, 0x80000000, 0x80000000, rne, 0x00000000, 0
	S2R fdiv.s, 0x80000000, 0x3f800000, rne, 0x80000000, 0
t_subnormal:
	D2R fmul.d, 0x0010000000000000, 0x3fe0000000000000, rne, 0x0008000000000000, 0	/* exact tiny: no UF */
	D2R fmul.d, 0x0000000000000001, 0x3fe0000000000000, rne, 0x0000000000000000, UF|NX	/* tie -> even 0 */
	D2R fmul.d, 0x0000000000000001, 0x3fe0000000000000, rup, 0x0000000000000001, UF|NX
	D2R fmul.d, 0x0000000000000003, 0x3fe0000000000000, rne, 0x0000000000000002, UF|NX	/* 1.5 -> 2 */
	D2R fadd.d, 0x0000000000000001, 0x0000000000000001, rne, 0x0000000000000002, 0
	D2R fsub.d, 0x0010000000000000, 0x0000000000000001, rne, 0x000fffffffffffff, 0	/* exact subnormal */
	D2R fdiv.d, 0x0010000000000000, 0x4000000000000000, rne, 0x0008000000000000, 0
	D2R fmul.d, 0x000fffffffffffff, 0x4000000000000000, rne, 0x001ffffffffffffe, 0	/* subnormal in, normal out */
	S2R fmul.s, 0x00800000, 0x3f000000, rne, 0x00400000, 0
	S2R fmul.s, 0x00000001, 0x3f000000, rne, 0x00000000, UF|NX
	S2R fmul.s, 0x00000001, 0x3f000000, rmm, 0x00000001, UF|NX
	S2R fmul.s, 0x80000001, 0x3f000000, rdn, 0x80000001, UF|NX
	S2R fadd.s, 0x007fffff, 0x00000001, rne, 0x00800000, 0		/* sums to min normal exactly */
	D1R fsqrt.d, 0x0000000000000004, rne, 0x1e70000000000000, 0	/* sqrt(2^-1072) = 2^-536: exponent 1023-536 = 0x1e7 */
t_overflow: /* max * 2: inf in rne/rup, max in rtz/rdn (IEEE 754 §7.4) */
	D2R fmul.d, 0x7fefffffffffffff, 0x4000000000000000, rne, 0x7ff0000000000000, OF|NX
	D2R fmul.d, 0x7fefffffffffffff, 0x4000000000000000, rtz, 0x7fefffffffffffff, OF|NX
	D2R fmul.d, 0x7fefffffffffffff, 0x4000000000000000, rdn, 0x7fefffffffffffff, OF|NX
	D2R fmul.d, 0x7fefffffffffffff, 0x4000000000000000, rup, 0x7ff0000000000000, OF|NX
	D2R fmul.d, 0xffefffffffffffff, 0x4000000000000000, rup, 0xffefffffffffffff, OF|NX
	D2R fmul.d, 0xffefffffffffffff, 0x4000000000000000, rmm, 0xfff0000000000000, OF|NX
	S2R fadd.s, 0x7f7fffff, 0x7f7fffff, rne, 0x7f800000, OF|NX
	S2R fadd.s, 0x7f7fffff, 0x7f7fffff, rtz, 0x7f7fffff, OF|NX
	D2R fadd.d, 0x7ff0000000000000, 0x3ff0000000000000, rne, 0x7ff0000000000000, 0	/* inf is exact */
t_cvt_to_int: /* §11.7 Table 11.4: NaN and too large -> max, too small -> min, NV */
	D2I fcvt.w.d, 0x7ff8000000000000, rtz, 0x7fffffff, NV
	D2I fcvt.w.d, 0x7ff0000000000000, rtz, 0x7fffffff, NV
	D2I fcvt.w.d, 0xfff0000000000000, rtz, 0xffffffff80000000, NV
	D2I fcvt.w.d, 0x41e65a0bc0000000, rtz, 0x7fffffff, NV		/* 3e9 */
	D2I fcvt.w.d, 0xc1e0000000000000, rtz, 0xffffffff80000000, 0	/* -2^31 exact */
	D2I fcvt.w.d, 0x8000000000000000, rtz, 0, 0			/* -0 */
	D2I fcvt.w.d, 0x4004000000000000, rne, 2, NX			/* 2.5 */
	D2I fcvt.w.d, 0x4004000000000000, rtz, 2, NX
	D2I fcvt.w.d, 0x4004000000000000, rdn, 2, NX
	D2I fcvt.w.d, 0x4004000000000000, rup, 3, NX
	D2I fcvt.w.d, 0x4004000000000000, rmm, 3, NX
	D2I fcvt.w.d, 0xc004000000000000, rne, -2, NX			/* -2.5 */
	D2I fcvt.w.d, 0xc004000000000000, rtz, -2, NX
	D2I fcvt.w.d, 0xc004000000000000, rdn, -3, NX
	D2I fcvt.w.d, 0xc004000000000000, rup, -2, NX
	D2I fcvt.w.d, 0xc004000000000000, rmm, -3, NX
	D2I fcvt.wu.d, 0xbff0000000000000, rtz, 0, NV			/* -1 */
	D2I fcvt.wu.d, 0xbfe0000000000000, rtz, 0, NX			/* -0.5 -> -0: in range */
	D2I fcvt.wu.d, 0x7ff8000000000000, rtz, 0xffffffffffffffff, NV	/* 2^32-1 sign-extended */
	D2I fcvt.wu.d, 0x41efffffffe00000, rtz, 0xffffffffffffffff, 0	/* 4294967295.0 */
	D2I fcvt.wu.d, 0x41e0000000000000, rtz, 0xffffffff80000000, 0	/* 2^31 sign-extended */
	D2I fcvt.l.d, 0x7ff8000000000000, rtz, 0x7fffffffffffffff, NV
	D2I fcvt.l.d, 0xfff0000000000000, rtz, 0x8000000000000000, NV
	D2I fcvt.l.d, 0x43e0000000000000, rtz, 0x7fffffffffffffff, NV	/* 2^63 */
	D2I fcvt.l.d, 0xc3e0000000000000, rtz, 0x8000000000000000, 0	/* -2^63 exact */
	D2I fcvt.lu.d, 0x7ff8000000000000, rtz, 0xffffffffffffffff, NV
	D2I fcvt.lu.d, 0xbff0000000000000, rtz, 0, NV
	D2I fcvt.lu.d, 0x43e0000000000000, rtz, 0x8000000000000000, 0
	D2I fcvt.lu.d, 0x43f0000000000000, rtz, 0xffffffffffffffff, NV	/* 2^64 */
	S2I fcvt.w.s, 0x7fc00000, rtz, 0x7fffffff, NV
	S2I fcvt.w.s, 0xcf000000, rtz, 0xffffffff80000000, 0		/* -2^31 */
	S2I fcvt.w.s, 0x3fc00000, rne, 2, NX				/* 1.5 -> 2 */
	S2I fcvt.wu.s, 0xbf800000, rtz, 0, NV
	S2I fcvt.l.s, 0xff800000, rtz, 0x8000000000000000, NV
	S2I fcvt.l.s, 0x40200000, rdn, 2, NX				/* 2.5 */
	S2I fcvt.lu.s, 0x5f800000, rtz, 0xffffffffffffffff, NV		/* 2^64 */
	S2I fcvt.lu.s, 0x3f800000, rtz, 1, 0
	li t0, 0x3f800000			/* unboxed 1.0f converts as canonical NaN */
	fmv.d.x fa0, t0
	fcvt.w.s a2, fa0, rtz
	CHECK a2, 0x7fffffff
	CHECK_FLAGS NV
t_cvt_from_int:
	I2FE fcvt.d.w, -1, 0xbff0000000000000
	I2FE fcvt.d.w, 0x00000000ffffffff, 0xbff0000000000000	/* only the low word counts */
	I2FE fcvt.d.w, 0xffffffff80000000, 0xc1e0000000000000
	I2FE fcvt.d.wu, 0xffffffffffffffff, 0x41efffffffe00000
	I2F fcvt.d.l, 0x7fffffffffffffff, rne, 0x43e0000000000000, NX	/* 2^63-1 -> 2^63 */
	I2F fcvt.d.l, 0x7fffffffffffffff, rtz, 0x43dfffffffffffff, NX	/* spacing 1024 below 2^63 */
	I2F fcvt.d.l, 0x7fffffffffffffff, rdn, 0x43dfffffffffffff, NX
	I2F fcvt.d.l, 0x7fffffffffffffff, rup, 0x43e0000000000000, NX
	I2F fcvt.d.l, 0x7fffffffffffffff, rmm, 0x43e0000000000000, NX
	I2F fcvt.d.l, 0x8000000000000001, rtz, 0xc3dfffffffffffff, NX	/* -(2^63-1) */
	I2F fcvt.d.l, 0x8000000000000001, rdn, 0xc3e0000000000000, NX
	I2F fcvt.d.l, 0x8000000000000000, rne, 0xc3e0000000000000, 0
	I2F fcvt.d.lu, 0xffffffffffffffff, rne, 0x43f0000000000000, NX
	I2F fcvt.d.lu, 0xffffffffffffffff, rdn, 0x43efffffffffffff, NX
	I2F fcvt.d.l, 0, rne, 0x0000000000000000, 0			/* +0, never -0 */
	I2F fcvt.d.l, 0, rdn, 0x0000000000000000, 0
	I2F fcvt.s.w, 16777217, rne, 0xffffffff4b800000, NX		/* 2^24+1: tie -> even 2^24 */
	I2F fcvt.s.w, 16777217, rup, 0xffffffff4b800001, NX
	I2F fcvt.s.w, 16777217, rmm, 0xffffffff4b800001, NX
	I2F fcvt.s.w, -16777217, rdn, 0xffffffffcb800001, NX
	I2F fcvt.s.wu, 0xffffffff, rne, 0xffffffff4f800000, NX		/* 2^32-1 -> 2^32 */
	I2F fcvt.s.wu, 0xffffffff, rtz, 0xffffffff4f7fffff, NX
	I2F fcvt.s.l, 0x8000000000000000, rne, 0xffffffffdf000000, 0	/* -2^63 */
	I2F fcvt.s.lu, 0xffffffffffffffff, rne, 0xffffffff5f800000, NX
	I2F fcvt.s.l, 3, rne, 0xffffffff40400000, 0
t_cvt_fp: /* between formats: NaNs become canonical; sNaN -> NV */
	DS1R fcvt.s.d, 0x3fd5555555555555, rne, 0x3eaaaaab, NX
	DS1R fcvt.s.d, 0x3fd5555555555555, rtz, 0x3eaaaaaa, NX	/* 0.33333333333333331: ..ab is nearer */
	DS1R fcvt.s.d, 0x3fd5555555555555, rdn, 0x3eaaaaaa, NX
	DS1R fcvt.s.d, 0x3fd5555555555555, rup, 0x3eaaaaab, NX
	DS1R fcvt.s.d, 0x3fd5555555555555, rmm, 0x3eaaaaab, NX
	DS1R fcvt.s.d, 0x7fefffffffffffff, rne, 0x7f800000, OF|NX
	DS1R fcvt.s.d, 0x7fefffffffffffff, rtz, 0x7f7fffff, OF|NX
	DS1R fcvt.s.d, 0x7ff8000000000123, rne, 0x7fc00000, 0
	DS1R fcvt.s.d, 0x7ff0000000000001, rne, 0x7fc00000, NV
	DS1R fcvt.s.d, 0x8000000000000000, rne, 0x80000000, 0
	DS1R fcvt.s.d, 0x3690000000000000, rne, 0x00000000, UF|NX		/* 2^-150: tie -> 0 */
	DS1R fcvt.s.d, 0x3690000000000000, rup, 0x00000001, UF|NX
	LD_S fa0, 0x3f800000
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0x3ff0000000000000
	LD_S fa0, 0x3eaaaaab
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0x3fd5555560000000			/* exact widening */
	LD_S fa0, 0x00000001
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0x36a0000000000000			/* 2^-149: subnormal single is normal double */
	LD_S fa0, 0x7f800001
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0x7ff8000000000000
	CHECK_FLAGS NV
	LD_S fa0, 0xff800000
	fcvt.d.s fa2, fa0
	CHECK_F fa2, 0xfff0000000000000
	CHECK_FLAGS 0
t_fs: /* sstatus.FS (priv §10.1.1.x): FP writes make it Dirty and set SD; Off makes F/D illegal */
	li t0, SSTATUS_FS_MASK
	csrc sstatus, t0
	li t0, SSTATUS_FS_INIT
	csrs sstatus, t0
	LD_D fa0, 0x3ff0000000000000
	csrr a0, sstatus
	srli a1, a0, 13
	andi a1, a1, 3
	CHECK a1, 3
	srli a1, a0, 63
	CHECK a1, 1
	li t0, SSTATUS_FS_MASK
	csrc sstatus, t0
	TAKE_TRAP a0, a1
insn_fadd_off:
	fadd.d fa2, fa0, fa0
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	csrr a2, fflags				/* so is fflags */
	TAKE_TRAP a0, a1
	CHECK a0, CAUSE_ILLEGAL
	li t0, SSTATUS_FS_INIT
	csrs sstatus, t0

	ISA_DONE
	ISA_RUNTIME

	.section .data
	.balign 8
fpmem:	.fill 4, 8, 0
