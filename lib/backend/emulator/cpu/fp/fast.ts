/**
 * Fast paths in JavaScript doubles. JS arithmetic is IEEE 754 binary64 with roundTiesToEven, so in
 * RNE the result value is right for free; the work is proving the exception flags. Every function
 * either writes its destination and returns the fflags it raised, or returns DECLINED having
 * written nothing, and the exact bigint path (arith.ts, convert.ts) takes over. Declined: NaN or
 * infinite operands, division by zero, overflow, and any result close enough to the subnormal
 * range that underflow or the error-free transformations below would need care.
 *
 * Inexactness comes from error-free transformations (Knuth's TwoSum; Dekker's TwoProduct with
 * Veltkamp splitting, exact when no intermediate overflows or underflows — hence the range guards).
 * Binary32 results are the binary64 result rounded again with Math.fround: double rounding is
 * harmless for + - × ÷ √ when the wider precision is at least 2p + 2 (53 >= 2·24 + 2; S. Figueroa,
 * "When is double rounding innocuous?", SIGNUM Newsletter 30(3), 1995).
 */

import { FFLAG_NX, RM_RDN, RM_RMM, RM_RNE, RM_RTZ } from './format.js';
import { readF32, readF64, writeF32, writeF64 } from './regs.js';

export const DECLINED = -1;

// OP-FP funct5 numbers for the four binary operations.
const ADD = 0;
const SUB = 1;
const MUL = 2;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 2 ** 53;
const TWO_POW_995 = 2 ** 995;
const TWO_POW_M967 = 2 ** -967;
const TWO_POW_M126 = 2 ** -126;
const SPLITTER = 134217729; // 2^27 + 1 (Veltkamp split for 53-bit significands)

/** The rounding error of the double product p = a·b, so that a·b = p + e exactly (Dekker's
 * TwoProduct with Veltkamp's split), for finite a, b with |a|,|b| < 2^995 and p not below 2^-967
 * (so the error is representable). */
export function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const aHi = t - (t - a);
  const aLo = a - aHi;
  t = SPLITTER * b;
  const bHi = t - (t - b);
  const bLo = b - bHi;
  return aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo;
}

/** Whether a·b == c exactly, under productError's range conditions. */
function productIsExactly(a: number, b: number, c: number): boolean {
  const p = a * b;
  return p === c && productError(a, b, p) === 0;
}

/** Whether the exact a op b differs from `result` (the rounded a op b, finite); null when the
 * operands are outside the range where that can be proven cheaply. */
function binaryInexact(op: number, a: number, b: number, result: number): boolean | null {
  if (op === ADD || op === SUB) {
    if (Math.abs(a) >= TWO_POW_995 || Math.abs(b) >= TWO_POW_995) return null;
    const bb = op === SUB ? -b : b;
    // Knuth's TwoSum: exact error of a + bb for any finite operands without overflow.
    const bv = result - a;
    const err = a - (result - bv) + (bb - bv);
    return err !== 0;
  }
  if (op === MUL) {
    if (a === 0 || b === 0) return false;
    if (Math.abs(result) < TWO_POW_M967 || Math.abs(a) >= TWO_POW_995 || Math.abs(b) >= TWO_POW_995) return null;
    return !productIsExactly(a, b, result);
  }
  // DIV: exact iff result · b == a.
  if (a === 0) return false;
  if (Math.abs(result) < TWO_POW_M967 || Math.abs(a) < TWO_POW_M967) return null;
  if (Math.abs(result) >= TWO_POW_995 || Math.abs(b) >= TWO_POW_995) return null;
  return !productIsExactly(result, b, a);
}

function compute(op: number, a: number, b: number): number {
  return op === ADD ? a + b : op === SUB ? a - b : op === MUL ? a * b : a / b;
}

/** fadd/fsub/fmul/fdiv.d in RNE. A sum is exact whenever it is subnormal, and a tiny inexact
 * product or quotient is declined by binaryInexact's range guard, so no UF case remains. */
export function fastBinaryD(op: number, f: Int32Array, rd: number, rs1: number, rs2: number): number {
  const a = readF64(f, rs1);
  const b = readF64(f, rs2);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return DECLINED;
  if (op > MUL && b === 0) return DECLINED;
  const r = compute(op, a, b);
  if (!Number.isFinite(r)) return DECLINED;
  const inexact = binaryInexact(op, a, b, r);
  if (inexact === null) return DECLINED;
  writeF64(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}

/** fadd/fsub/fmul/fdiv.s in RNE: binary64 result, then Math.fround. */
export function fastBinaryS(op: number, f: Int32Array, rd: number, rs1: number, rs2: number): number {
  const a = readF32(f, rs1);
  const b = readF32(f, rs2);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return DECLINED;
  if (op > MUL && b === 0) return DECLINED;
  const d = compute(op, a, b);
  // Binary32 operands keep every double intermediate far from binary64 overflow and underflow.
  const doubleInexact = binaryInexact(op, a, b, d);
  if (doubleInexact === null) return DECLINED;
  const r = Math.fround(d);
  if (!Number.isFinite(r)) return DECLINED;
  const inexact = doubleInexact || r !== d;
  // Possible underflow: an inexact result at or below the smallest normal may be tiny (even one that
  // rounded up to exactly 2^-126), which the exact path decides.
  if (inexact && Math.abs(r) <= TWO_POW_M126) return DECLINED;
  writeF32(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}

/** fsqrt.d in RNE. Math.sqrt is exactly IEEE squareRoot (ECMA-262 does not list it among the
 * implementation-approximated Math functions), so only NX needs proving: r·r == a exactly. */
export function fastSqrtD(f: Int32Array, rd: number, rs1: number): number {
  const a = readF64(f, rs1);
  if (a === 0) {
    writeF64(f, rd, a); // sqrt(±0) = ±0
    return 0;
  }
  if (!(a >= TWO_POW_M967) || a === Infinity) return DECLINED;
  const r = Math.sqrt(a);
  writeF64(f, rd, r);
  return productIsExactly(r, r, a) ? 0 : FFLAG_NX;
}

/** fsqrt.s in RNE. */
export function fastSqrtS(f: Int32Array, rd: number, rs1: number): number {
  const a = readF32(f, rs1);
  if (a === 0) {
    writeF32(f, rd, a);
    return 0;
  }
  if (!(a > 0) || a === Infinity) return DECLINED;
  const d = Math.sqrt(a);
  const r = Math.fround(d);
  writeF32(f, rd, r);
  return r === d && productIsExactly(d, d, a) ? 0 : FFLAG_NX;
}

/**
 * fcvt.{w,wu,l,lu}.{s,d} for |value| < 2^53 in every rounding mode: Math.floor and the exact
 * fraction v - floor(v) decide the rounding; out-of-range results are left to the exact path,
 * which owns the saturation table. kind: 0 W, 1 WU, 2 L, 3 LU.
 */
export function fastToInt(
  isDouble: boolean,
  f: Int32Array,
  rs1: number,
  rm: number,
  kind: number,
  x: Int32Array,
  rd: number,
): number {
  const v = isDouble ? readF64(f, rs1) : readF32(f, rs1);
  if (!(Math.abs(v) < TWO_POW_53)) return DECLINED; // NaN, ∞ and huge values
  const floor = Math.floor(v);
  const frac = v - floor; // exact: both are within 2^53 and one apart at most
  let r = floor;
  if (frac !== 0) {
    let up: boolean;
    if (rm === RM_RNE) up = frac > 0.5 || (frac === 0.5 && floor % 2 !== 0);
    else if (rm === RM_RTZ) up = v < 0;
    else if (rm === RM_RDN) up = false;
    else if (rm === RM_RMM) up = frac > 0.5 || (frac === 0.5 && v > 0);
    else up = true; // RUP
    if (up) r = floor + 1;
  }
  const lo32 = kind === 0 ? -2147483648 : 0;
  const hi32 = kind === 0 ? 2147483647 : kind === 1 ? 4294967295 : TWO_POW_53;
  if (r < lo32 || r > hi32 || (kind === 3 && r < 0)) return DECLINED;
  if (rd !== 0) {
    if (kind < 2) {
      const word = r | 0; // W and WU results are sign-extended 32-bit values
      x[2 * rd] = word;
      x[2 * rd + 1] = word >> 31;
    } else {
      const hi = Math.floor(r / TWO_POW_32);
      x[2 * rd] = (r - hi * TWO_POW_32) | 0;
      x[2 * rd + 1] = hi | 0;
    }
  }
  return frac !== 0 ? FFLAG_NX : 0;
}

/**
 * fcvt.{s,d}.{w,wu,l,lu} when the integer is exactly a double (|value| <= 2^53): exact for .d in
 * every mode; for .s exact up to 2^24 in every mode, else rounded by Math.fround in RNE only.
 */
export function fastFromInt(isDouble: boolean, x: Int32Array, rs1: number, kind: number, rm: number, f: Int32Array, rd: number): number {
  const lo = x[2 * rs1]!;
  const hi = x[2 * rs1 + 1]!;
  let v: number;
  if (kind === 0) v = lo;
  else if (kind === 1) v = lo >>> 0;
  else {
    const top = kind === 2 ? hi : hi >>> 0;
    if (top >= 0x200000 || top < -0x200000) return DECLINED; // beyond ±2^53
    v = top * TWO_POW_32 + (lo >>> 0);
  }
  if (isDouble) {
    writeF64(f, rd, v);
    return 0;
  }
  const r = Math.fround(v);
  if (r === v) {
    writeF32(f, rd, r);
    return 0;
  }
  if (rm !== RM_RNE) return DECLINED;
  writeF32(f, rd, r);
  return FFLAG_NX;
}

/** fcvt.d.s (exact for every non-NaN) and fcvt.s.d in RNE via Math.fround. */
export function fastConvertFormat(toDouble: boolean, f: Int32Array, rd: number, rs1: number, rm: number): number {
  if (toDouble) {
    const v = readF32(f, rs1);
    if (Number.isNaN(v)) return DECLINED;
    writeF64(f, rd, v);
    return 0;
  }
  if (rm !== RM_RNE) return DECLINED;
  const v = readF64(f, rs1);
  const r = Math.fround(v);
  if (Number.isNaN(v) || (!Number.isFinite(r) && Number.isFinite(v))) return DECLINED;
  const inexact = r !== v;
  if (inexact && Math.abs(r) <= TWO_POW_M126) return DECLINED; // possible underflow
  writeF32(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}
