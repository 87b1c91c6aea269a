/**
 * Rounding an exact value to a format: the single place where IEEE 754-2019 §4.3 (rounding
 * direction attributes), §7.4 (overflow) and §7.5 (underflow) are implemented for the slow path.
 *
 * The value to round is (-1)^sign * (sig + ε) * 2^exp with sig > 0 an integer and ε = 0 when
 * `sticky` is false, 0 < ε < 1 when it is true. Callers that pass sticky = true guarantee sig has at
 * least p + 2 bits (p = precision), so ε only ever lands below the round bit.
 */

import {
  bitLength,
  FFLAG_NX,
  FFLAG_OF,
  FFLAG_UF,
  type FpFormat,
  type FpResult,
  type RoundingMode,
  RM_RDN,
  RM_RMM,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
} from './format.js';

/** sig shifted right by `shift` bits (shift may be <= 0) and rounded to an integer per rm. */
export interface RoundedInteger {
  value: bigint;
  inexact: boolean;
}

/**
 * Rounds (sig + ε) / 2^shift to an integer in direction rm for a value of the given sign
 * (IEEE 754-2019 §4.3.1 / §4.3.2). Shared by format rounding and float→integer conversion.
 */
export function roundShifted(
  sig: bigint,
  shift: number,
  sticky: boolean,
  sign: number,
  rm: RoundingMode,
): RoundedInteger {
  let kept: bigint;
  let roundBit: boolean;
  let rest: boolean;
  if (shift > 0) {
    const s = BigInt(shift);
    kept = sig >> s;
    roundBit = ((sig >> (s - 1n)) & 1n) === 1n;
    rest = sticky || (sig & ((1n << (s - 1n)) - 1n)) !== 0n;
  } else {
    kept = sig << BigInt(-shift);
    roundBit = false;
    rest = sticky;
  }
  const inexact = roundBit || rest;
  let up = false;
  switch (rm) {
    case RM_RNE:
      up = roundBit && (rest || (kept & 1n) === 1n);
      break;
    case RM_RTZ:
      up = false;
      break;
    case RM_RDN:
      up = inexact && sign === 1;
      break;
    case RM_RUP:
      up = inexact && sign === 0;
      break;
    case RM_RMM:
      up = roundBit;
      break;
  }
  return { value: up ? kept + 1n : kept, inexact };
}

/** The finite-or-infinite result of an overflow in direction rm (IEEE 754-2019 §7.4). */
export function overflowResult(fmt: FpFormat, sign: number, rm: RoundingMode): bigint {
  const toInfinity =
    rm === RM_RNE || rm === RM_RMM || (rm === RM_RUP && sign === 0) || (rm === RM_RDN && sign === 1);
  const magnitude = toInfinity ? fmt.infBits : fmt.maxFiniteBits;
  return sign === 1 ? magnitude | fmt.signBit : magnitude;
}

/**
 * Rounds (-1)^sign * (sig + ε) * 2^exp (sig > 0) to `fmt`. Underflow follows RISC-V, which detects
 * tininess after rounding (unprivileged spec, F §"Accrued exception flags"; IEEE 754-2019 §7.5):
 * tiny means the result rounded to p bits with an unbounded exponent is below 2^emin, and UF is
 * raised only when the result is also inexact.
 */
export function roundToFormat(
  fmt: FpFormat,
  sign: number,
  sig: bigint,
  exp: number,
  sticky: boolean,
  rm: RoundingMode,
): FpResult {
  const topExp = exp + bitLength(sig) - 1; // exponent of the leading bit
  const minQuantum = fmt.emin - fmt.fracBits; // exponent of the least subnormal bit
  let quantum = Math.max(topExp - fmt.fracBits, minQuantum);
  const r = roundShifted(sig, quantum - exp, sticky, sign, rm);
  let kept = r.value;
  if (kept >> BigInt(fmt.fracBits + 1) !== 0n) {
    // Rounding carried into a new leading bit (only possible for normal results).
    kept >>= 1n;
    quantum += 1;
  }
  let flags = r.inexact ? FFLAG_NX : 0;
  // (quantum - minQuantum) is (biased exponent - 1) for normals and 0 for subnormals; adding kept
  // (which carries the hidden bit for normals) yields the encoding in both cases.
  const magnitude = (BigInt(quantum - minQuantum) << BigInt(fmt.fracBits)) + kept;
  if (magnitude >= fmt.infBits) {
    return { bits: overflowResult(fmt, sign, rm), flags: FFLAG_OF | FFLAG_NX };
  }
  if (topExp < fmt.emin && r.inexact) {
    // Tiny unless rounding at full precision with unbounded exponent reaches 2^emin, which can only
    // happen from just below it.
    let tiny = true;
    if (topExp === fmt.emin - 1) {
      const unbounded = roundShifted(sig, topExp - fmt.fracBits - exp, sticky, sign, rm);
      tiny = unbounded.value >> BigInt(fmt.fracBits + 1) === 0n;
    }
    if (tiny) flags |= FFLAG_UF;
  }
  return { bits: sign === 1 ? magnitude | fmt.signBit : magnitude, flags };
}
