/**
 * Exact arithmetic for every rounding mode: add, multiply, divide, square root and fused
 * multiply-add computed exactly on integer significands (bigint) and rounded once by
 * roundToFormat. IEEE 754-2019 §5.4.1 (arithmetic operations), §6.2 (NaNs), §6.3 (sign of zero
 * results), §7.2 (invalid), §7.3 (division by zero); NaN results are RISC-V canonical NaNs
 * (unprivileged spec, F §"NaN Generation and Propagation").
 */

import {
  bitLength,
  FFLAG_DZ,
  FFLAG_NV,
  type FpFormat,
  type FpResult,
  type RoundingMode,
  RM_RDN,
} from './format.js';
import { roundToFormat } from './round.js';
import { Kind, type Unpacked, unpack } from './unpack.js';

function invalid(fmt: FpFormat): FpResult {
  return { bits: fmt.canonicalNaN, flags: FFLAG_NV };
}

function nanResult(fmt: FpFormat, ...operands: Unpacked[]): FpResult {
  const signaling = operands.some((o) => o.kind === Kind.NaN && o.signaling);
  return { bits: fmt.canonicalNaN, flags: signaling ? FFLAG_NV : 0 };
}

function signed(fmt: FpFormat, sign: number, magnitude: bigint): FpResult {
  return { bits: sign === 1 ? magnitude | fmt.signBit : magnitude, flags: 0 };
}

/** An exact zero sum of operands with different signs is +0, or -0 when rounding down (§6.3). */
function exactZeroSum(fmt: FpFormat, rm: RoundingMode): FpResult {
  return signed(fmt, rm === RM_RDN ? 1 : 0, 0n);
}

/** Sum of two zeros: same signs keep it; otherwise as exactZeroSum (§6.3). */
function zeroPlusZero(fmt: FpFormat, signA: number, signB: number, rm: RoundingMode): FpResult {
  return signA === signB ? signed(fmt, signA, 0n) : exactZeroSum(fmt, rm);
}

/** Exact sum of two signed finite values sig*2^exp (either may be zero) rounded once. */
function sumFinite(
  fmt: FpFormat,
  signA: number,
  sigA: bigint,
  expA: number,
  signB: number,
  sigB: bigint,
  expB: number,
  rm: RoundingMode,
): FpResult {
  const exp = Math.min(expA, expB);
  const a = sigA << BigInt(expA - exp);
  const b = sigB << BigInt(expB - exp);
  const sum = (signA ? -a : a) + (signB ? -b : b);
  if (sum === 0n) return exactZeroSum(fmt, rm);
  return sum < 0n ? roundToFormat(fmt, 1, -sum, exp, false, rm) : roundToFormat(fmt, 0, sum, exp, false, rm);
}

export function fpAdd(fmt: FpFormat, aBits: bigint, bBits: bigint, rm: RoundingMode, negateB = false): FpResult {
  const a = unpack(fmt, aBits);
  const b = unpack(fmt, bBits);
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) return nanResult(fmt, a, b);
  const signB = negateB ? b.sign ^ 1 : b.sign;
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (a.kind === Kind.Infinity && b.kind === Kind.Infinity && a.sign !== signB) return invalid(fmt);
    return signed(fmt, a.kind === Kind.Infinity ? a.sign : signB, fmt.infBits);
  }
  if (a.kind === Kind.Zero && b.kind === Kind.Zero) return zeroPlusZero(fmt, a.sign, signB, rm);
  if (a.kind === Kind.Zero) return signed(fmt, signB, bBits & ~fmt.signBit);
  if (b.kind === Kind.Zero) return { bits: aBits, flags: 0 };
  return sumFinite(fmt, a.sign, a.sig, a.exp, signB, b.sig, b.exp, rm);
}

export function fpMul(fmt: FpFormat, aBits: bigint, bBits: bigint, rm: RoundingMode): FpResult {
  const a = unpack(fmt, aBits);
  const b = unpack(fmt, bBits);
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) return nanResult(fmt, a, b);
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (a.kind === Kind.Zero || b.kind === Kind.Zero) return invalid(fmt);
    return signed(fmt, sign, fmt.infBits);
  }
  if (a.kind === Kind.Zero || b.kind === Kind.Zero) return signed(fmt, sign, 0n);
  return roundToFormat(fmt, sign, a.sig * b.sig, a.exp + b.exp, false, rm);
}

export function fpDiv(fmt: FpFormat, aBits: bigint, bBits: bigint, rm: RoundingMode): FpResult {
  const a = unpack(fmt, aBits);
  const b = unpack(fmt, bBits);
  if (a.kind === Kind.NaN || b.kind === Kind.NaN) return nanResult(fmt, a, b);
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Infinity) {
    return b.kind === Kind.Infinity ? invalid(fmt) : signed(fmt, sign, fmt.infBits);
  }
  if (b.kind === Kind.Infinity) return signed(fmt, sign, 0n);
  if (b.kind === Kind.Zero) {
    if (a.kind === Kind.Zero) return invalid(fmt);
    return { bits: sign === 1 ? fmt.infBits | fmt.signBit : fmt.infBits, flags: FFLAG_DZ };
  }
  if (a.kind === Kind.Zero) return signed(fmt, sign, 0n);
  // Scale the dividend so the quotient has at least p + 2 bits; the remainder becomes the sticky bit.
  const p = fmt.fracBits + 1;
  const scale = Math.max(0, p + 3 + bitLength(b.sig) - bitLength(a.sig));
  const dividend = a.sig << BigInt(scale);
  const quotient = dividend / b.sig;
  const sticky = quotient * b.sig !== dividend;
  return roundToFormat(fmt, sign, quotient, a.exp - b.exp - scale, sticky, rm);
}

/** floor(sqrt(n)) for n >= 0 by Newton's iteration from above. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function fpSqrt(fmt: FpFormat, aBits: bigint, rm: RoundingMode): FpResult {
  const a = unpack(fmt, aBits);
  if (a.kind === Kind.NaN) return nanResult(fmt, a);
  if (a.kind === Kind.Zero) return { bits: aBits, flags: 0 }; // sqrt(±0) = ±0 (§5.4.1)
  if (a.sign === 1) return invalid(fmt);
  if (a.kind === Kind.Infinity) return { bits: aBits, flags: 0 };
  // Scale to an even exponent and a radicand of at least 2(p + 2) bits so the root has p + 2 bits.
  const p = fmt.fracBits + 1;
  let scale = Math.max(0, 2 * (p + 2) - bitLength(a.sig));
  if (((a.exp - scale) & 1) !== 0) scale += 1;
  const radicand = a.sig << BigInt(scale);
  const root = isqrt(radicand);
  return roundToFormat(fmt, 0, root, (a.exp - scale) / 2, root * root !== radicand, rm);
}

/**
 * (±a·b) ± c with one rounding (IEEE 754-2019 §5.4.1 fusedMultiplyAdd). RISC-V requires NV for
 * ∞·0 even when c is a quiet NaN (unprivileged spec, F §"Single-Precision Fused Multiply-Add").
 */
export function fpFma(
  fmt: FpFormat,
  aBits: bigint,
  bBits: bigint,
  cBits: bigint,
  rm: RoundingMode,
  negateProduct: boolean,
  negateAddend: boolean,
): FpResult {
  const a = unpack(fmt, aBits);
  const b = unpack(fmt, bBits);
  const c = unpack(fmt, cBits);
  const infTimesZero =
    (a.kind === Kind.Infinity && b.kind === Kind.Zero) || (a.kind === Kind.Zero && b.kind === Kind.Infinity);
  if (a.kind === Kind.NaN || b.kind === Kind.NaN || c.kind === Kind.NaN) {
    const r = nanResult(fmt, a, b, c);
    return infTimesZero ? { bits: r.bits, flags: FFLAG_NV } : r;
  }
  if (infTimesZero) return invalid(fmt);
  const signP = a.sign ^ b.sign ^ (negateProduct ? 1 : 0);
  const signC = c.sign ^ (negateAddend ? 1 : 0);
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (c.kind === Kind.Infinity && signC !== signP) return invalid(fmt);
    return signed(fmt, signP, fmt.infBits);
  }
  if (c.kind === Kind.Infinity) return signed(fmt, signC, fmt.infBits);
  const productIsZero = a.kind === Kind.Zero || b.kind === Kind.Zero;
  if (productIsZero && c.kind === Kind.Zero) return zeroPlusZero(fmt, signP, signC, rm);
  if (productIsZero) return signed(fmt, signC, cBits & ~fmt.signBit);
  if (c.kind === Kind.Zero) return roundToFormat(fmt, signP, a.sig * b.sig, a.exp + b.exp, false, rm);
  return sumFinite(fmt, signP, a.sig * b.sig, a.exp + b.exp, signC, c.sig, c.exp, rm);
}
