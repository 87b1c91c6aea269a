/**
 * Conversions (unprivileged spec, F §"Single-Precision Floating-Point Conversion and Move
 * Instructions" and D §"Double-Precision Floating-Point Conversion and Move Instructions"):
 * float → integer with the spec's saturation table, integer → float, and binary64 ↔ binary32.
 */

import { FFLAG_NV, FFLAG_NX, type FpFormat, type FpResult, type RoundingMode } from './format.js';
import { roundShifted, roundToFormat } from './round.js';
import { Kind, unpack } from './unpack.js';

/** A float → integer result as the 64-bit value written to rd (32-bit results sign-extended). */
export interface IntResult {
  value: bigint;
  flags: number;
}

/**
 * fcvt.{w,wu,l,lu}.{s,d}. Out-of-range inputs (after rounding) and NaN saturate per the spec's
 * table — NaN and +∞/too large give the maximum, -∞/too small the minimum — and raise NV only; an
 * in-range inexact conversion raises NX. The W forms sign-extend their 32-bit result, WU included.
 */
export function fpToInt(
  fmt: FpFormat,
  bits: bigint,
  rm: RoundingMode,
  width: 32 | 64,
  isSigned: boolean,
): IntResult {
  const w = BigInt(width);
  const max = isSigned ? (1n << (w - 1n)) - 1n : (1n << w) - 1n;
  const min = isSigned ? -(1n << (w - 1n)) : 0n;
  const finish = (v: bigint, flags: number): IntResult => ({
    value: BigInt.asIntN(64, BigInt.asIntN(width, v)),
    flags,
  });
  const a = unpack(fmt, bits);
  switch (a.kind) {
    case Kind.NaN:
      return finish(max, FFLAG_NV);
    case Kind.Infinity:
      return finish(a.sign === 1 ? min : max, FFLAG_NV);
    case Kind.Zero:
      return finish(0n, 0);
  }
  // Anything at or above 2^(width+1) is out of range for every form; avoid huge shifts.
  if (a.exp > width + 1) return finish(a.sign === 1 ? min : max, FFLAG_NV);
  const r = roundShifted(a.sig, -a.exp, false, a.sign, rm);
  const v = a.sign === 1 ? -r.value : r.value;
  if (v > max) return finish(max, FFLAG_NV);
  if (v < min) return finish(min, FFLAG_NV);
  return finish(v, r.inexact ? FFLAG_NX : 0);
}

/** fcvt.{s,d}.{w,wu,l,lu}: the integer `value` (already sign- or zero-extended) rounded to fmt. */
export function intToFp(fmt: FpFormat, value: bigint, rm: RoundingMode): FpResult {
  if (value === 0n) return { bits: 0n, flags: 0 };
  return value < 0n ? roundToFormat(fmt, 1, -value, 0, false, rm) : roundToFormat(fmt, 0, value, 0, false, rm);
}

/**
 * fcvt.s.d / fcvt.d.s: convert between formats. NaNs become the target's canonical NaN (NV for a
 * signaling input); widening is always exact.
 */
export function fpConvert(from: FpFormat, to: FpFormat, bits: bigint, rm: RoundingMode): FpResult {
  const a = unpack(from, bits);
  const signBit = a.sign === 1 ? to.signBit : 0n;
  switch (a.kind) {
    case Kind.NaN:
      return { bits: to.canonicalNaN, flags: a.signaling ? FFLAG_NV : 0 };
    case Kind.Infinity:
      return { bits: signBit | to.infBits, flags: 0 };
    case Kind.Zero:
      return { bits: signBit, flags: 0 };
  }
  return roundToFormat(to, a.sign, a.sig, a.exp, false, rm);
}
