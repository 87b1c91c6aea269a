/**
 * Round-to-nearest-even fast paths in JavaScript doubles. JS arithmetic is IEEE 754 binary64 with
 * roundTiesToEven, so the result value is right for free; the work is proving the exception flags.
 * Every function either writes rd and returns the fflags it raised, or returns DECLINED having
 * written nothing, and the exact bigint path takes over. Declined: NaN or infinite operands,
 * division by zero, overflow, and any result close enough to the subnormal range that
 * underflow or the error-free transformations below would need care.
 *
 * Inexactness comes from error-free transformations (Knuth's TwoSum; Dekker's TwoProduct with
 * Veltkamp splitting, exact when no intermediate overflows or underflows — hence the range guards).
 * Binary32 results are the binary64 result rounded again with Math.fround: double rounding is
 * harmless for + - × ÷ √ when the wider precision is at least 2p + 2 (53 >= 2·24 + 2; Figueroa,
 * "When is double rounding innocuous?", 1995).
 */

import { FFLAG_NX } from './format.js';

export const DECLINED = -1;

const scratch = new ArrayBuffer(8);
const f64 = new Float64Array(scratch);
const f32 = new Float32Array(scratch);
const i32 = new Int32Array(scratch);
// The word order below assumes a little-endian host (every riscv64, x86-64 and arm64 Node).
f64[0] = 1;
const LITTLE_ENDIAN = i32[1] === 0x3ff00000;

// OP-FP funct5 numbers for the four binary operations.
const ADD = 0;
const SUB = 1;
const MUL = 2;

const TWO_POW_995 = 2 ** 995;
const TWO_POW_M967 = 2 ** -967;
const TWO_POW_M126 = 2 ** -126;
const SPLITTER = 134217729; // 2^27 + 1 (Veltkamp split for 53-bit significands)

/** Whether a·b == c exactly, for finite a, b with |a|,|b| < 2^995 and |c| >= 2^-967 (so the
 * product's rounding error is representable). Dekker's TwoProduct: a·b = p + e exactly. */
function productIsExactly(a: number, b: number, c: number): boolean {
  const p = a * b;
  if (p !== c) return false;
  let t = SPLITTER * a;
  const aHi = t - (t - a);
  const aLo = a - aHi;
  t = SPLITTER * b;
  const bHi = t - (t - b);
  const bLo = b - bHi;
  const e = aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo;
  return e === 0;
}

function readD(f: Int32Array, r: number): number {
  i32[0] = f[2 * r]!;
  i32[1] = f[2 * r + 1]!;
  return f64[0]!;
}

function writeD(f: Int32Array, r: number, v: number): void {
  f64[0] = v;
  f[2 * r] = i32[0]!;
  f[2 * r + 1] = i32[1]!;
}

/** A NaN-boxed single as a number, or NaN when not boxed (the caller declines NaNs anyway). */
function readS(f: Int32Array, r: number): number {
  if (f[2 * r + 1] !== -1) return NaN;
  i32[0] = f[2 * r]!;
  return f32[0]!;
}

function writeS(f: Int32Array, r: number, v: number): void {
  f32[0] = v;
  f[2 * r] = i32[0]!;
  f[2 * r + 1] = -1;
}

/** The exact a op b is `result` plus a nonzero error (a op b finite). */
function binaryInexact(op: number, a: number, b: number, result: number): boolean | null {
  if (op === ADD || op === SUB) {
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

/** fadd/fsub/fmul/fdiv.d in RNE. */
export function fastBinaryD(op: number, f: Int32Array, rd: number, rs1: number, rs2: number): number {
  if (!LITTLE_ENDIAN) return DECLINED;
  const a = readD(f, rs1);
  const b = readD(f, rs2);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return DECLINED;
  if (op !== MUL && op !== ADD && op !== SUB && b === 0) return DECLINED;
  if ((op === ADD || op === SUB) && (Math.abs(a) >= TWO_POW_995 || Math.abs(b) >= TWO_POW_995)) return DECLINED;
  const r = compute(op, a, b);
  if (!Number.isFinite(r)) return DECLINED;
  const inexact = binaryInexact(op, a, b, r);
  if (inexact === null) return DECLINED;
  // A sum is exact whenever it is subnormal; a tiny inexact product/quotient was declined above.
  writeD(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}

/** fadd/fsub/fmul/fdiv.s in RNE: binary64 result, then Math.fround. */
export function fastBinaryS(op: number, f: Int32Array, rd: number, rs1: number, rs2: number): number {
  if (!LITTLE_ENDIAN) return DECLINED;
  const a = readS(f, rs1);
  const b = readS(f, rs2);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return DECLINED;
  if (op !== MUL && op !== ADD && op !== SUB && b === 0) return DECLINED;
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
  writeS(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}

/** fsqrt.d in RNE. */
export function fastSqrtD(f: Int32Array, rd: number, rs1: number): number {
  if (!LITTLE_ENDIAN) return DECLINED;
  const a = readD(f, rs1);
  if (a === 0) {
    writeD(f, rd, a); // sqrt(±0) = ±0
    return 0;
  }
  if (!(a >= TWO_POW_M967) || a === Infinity) return DECLINED;
  const r = Math.sqrt(a);
  writeD(f, rd, r);
  return productIsExactly(r, r, a) ? 0 : FFLAG_NX;
}

/** fsqrt.s in RNE. */
export function fastSqrtS(f: Int32Array, rd: number, rs1: number): number {
  if (!LITTLE_ENDIAN) return DECLINED;
  const a = readS(f, rs1);
  if (a === 0) {
    writeS(f, rd, a);
    return 0;
  }
  if (!(a > 0) || a === Infinity) return DECLINED;
  const d = Math.sqrt(a);
  const r = Math.fround(d);
  writeS(f, rd, r);
  return r === d && productIsExactly(d, d, a) ? 0 : FFLAG_NX;
}
