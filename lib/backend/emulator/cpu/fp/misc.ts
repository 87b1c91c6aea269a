/**
 * Operations that never round: sign injection, comparisons, minimum/maximum and classification
 * (unprivileged spec, F §"Single-Precision Floating-Point Move Instructions", §"Compare
 * Instructions", §"Classify Instruction", and the minimumNumber/maximumNumber rule of F §"Computational
 * Instructions", IEEE 754-2019 §9.6).
 */

import { FFLAG_NV, type FpFormat, type FpResult, isNaNBits, isSignalingNaNBits } from './format.js';

/** fsgnj / fsgnjn / fsgnjx: a's magnitude with a sign taken from b (0), its inverse (1), or the
 * xor of both signs (2). No flags, NaNs are not canonicalized. */
export function fpSignInject(fmt: FpFormat, a: bigint, b: bigint, kind: 0 | 1 | 2): bigint {
  const magnitude = a & ~fmt.signBit;
  const signB = b & fmt.signBit;
  let sign: bigint;
  if (kind === 0) sign = signB;
  else if (kind === 1) sign = signB ^ fmt.signBit;
  else sign = (a & fmt.signBit) ^ signB;
  return magnitude | sign;
}

/** Ordering key for non-NaN bit patterns: order of keys is numeric order, with -0 = +0. */
function orderKey(fmt: FpFormat, bits: bigint): bigint {
  const magnitude = bits & ~fmt.signBit;
  return (bits & fmt.signBit) !== 0n ? -magnitude : magnitude;
}

export interface CompareResult {
  value: boolean;
  flags: number;
}

/** feq (quiet: NV only for a signaling NaN), flt / fle (signaling: NV for any NaN). */
export function fpCompare(fmt: FpFormat, a: bigint, b: bigint, op: 'eq' | 'lt' | 'le'): CompareResult {
  if (isNaNBits(fmt, a) || isNaNBits(fmt, b)) {
    const signaling = isSignalingNaNBits(fmt, a) || isSignalingNaNBits(fmt, b);
    return { value: false, flags: op !== 'eq' || signaling ? FFLAG_NV : 0 };
  }
  const ka = orderKey(fmt, a);
  const kb = orderKey(fmt, b);
  const value = op === 'eq' ? ka === kb : op === 'lt' ? ka < kb : ka <= kb;
  return { value, flags: 0 };
}

/**
 * fmin / fmax: minimumNumber / maximumNumber. -0 is less than +0; one NaN yields the other
 * operand; two NaNs yield the canonical NaN; a signaling NaN input raises NV.
 */
export function fpMinMax(fmt: FpFormat, a: bigint, b: bigint, isMax: boolean): FpResult {
  const flags = isSignalingNaNBits(fmt, a) || isSignalingNaNBits(fmt, b) ? FFLAG_NV : 0;
  const aNaN = isNaNBits(fmt, a);
  const bNaN = isNaNBits(fmt, b);
  if (aNaN && bNaN) return { bits: fmt.canonicalNaN, flags };
  if (aNaN) return { bits: b, flags };
  if (bNaN) return { bits: a, flags };
  // Break the -0/+0 tie by the sign bit: the negative one is smaller.
  let aLess = orderKey(fmt, a) < orderKey(fmt, b);
  if (orderKey(fmt, a) === orderKey(fmt, b)) aLess = (a & fmt.signBit) !== 0n;
  return { bits: aLess !== isMax ? a : b, flags };
}

/** fclass: a one-hot 10-bit mask (unprivileged spec, F table "Format of result of FCLASS"). */
export function fpClassify(fmt: FpFormat, bits: bigint): number {
  const negative = (bits & fmt.signBit) !== 0n;
  const magnitude = bits & ~fmt.signBit;
  const expField = magnitude >> BigInt(fmt.fracBits);
  if (magnitude > fmt.infBits) return (magnitude & fmt.quietBit) !== 0n ? 1 << 9 : 1 << 8;
  if (magnitude === fmt.infBits) return negative ? 1 << 0 : 1 << 7;
  if (magnitude === 0n) return negative ? 1 << 3 : 1 << 4;
  if (expField === 0n) return negative ? 1 << 2 : 1 << 5;
  return negative ? 1 << 1 : 1 << 6;
}
