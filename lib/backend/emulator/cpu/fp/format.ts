/**
 * IEEE 754-2019 binary32 / binary64 as RISC-V uses them (unprivileged spec, "F" §"Floating-Point
 * Control and Status Register" and "D"): format parameters, fflags bits, rounding-mode numbers and
 * the canonical NaNs. Raw values are carried as bigint bit patterns of the format's width.
 */

export interface FpFormat {
  readonly name: 'S' | 'D';
  readonly width: 32 | 64;
  readonly expBits: number;
  /** Stored fraction bits; precision p = fracBits + 1. */
  readonly fracBits: number;
  readonly bias: number;
  /** Smallest normal exponent, 1 - bias. */
  readonly emin: number;
  readonly emax: number;
  readonly signBit: bigint;
  /** Exponent field all ones, fraction zero: +infinity. */
  readonly infBits: bigint;
  readonly maxFiniteBits: bigint;
  /** RISC-V canonical NaN (spec §"NaN Generation and Propagation"): positive, quiet, payload 0. */
  readonly canonicalNaN: bigint;
  readonly fracMask: bigint;
  /** The quiet bit: most significant fraction bit. */
  readonly quietBit: bigint;
}

function makeFormat(name: 'S' | 'D', width: 32 | 64, expBits: number): FpFormat {
  const fracBits = width - 1 - expBits;
  const bias = (1 << (expBits - 1)) - 1;
  const infBits = BigInt((1 << expBits) - 1) << BigInt(fracBits);
  const quietBit = 1n << BigInt(fracBits - 1);
  return {
    name,
    width,
    expBits,
    fracBits,
    bias,
    emin: 1 - bias,
    emax: bias,
    signBit: 1n << BigInt(width - 1),
    infBits,
    maxFiniteBits: infBits - 1n,
    canonicalNaN: infBits | quietBit,
    fracMask: (1n << BigInt(fracBits)) - 1n,
    quietBit,
  };
}

export const FLOAT32: FpFormat = makeFormat('S', 32, 8);
export const FLOAT64: FpFormat = makeFormat('D', 64, 11);

/** fflags bits (fcsr[4:0]). */
export const FFLAG_NX = 1; // inexact
export const FFLAG_UF = 2; // underflow
export const FFLAG_OF = 4; // overflow
export const FFLAG_DZ = 8; // divide by zero
export const FFLAG_NV = 16; // invalid operation

/** Rounding modes (the rm field and fcsr.frm). 5 and 6 are reserved; 7 in rm means "use frm". */
export const RM_RNE = 0; // to nearest, ties to even
export const RM_RTZ = 1; // toward zero
export const RM_RDN = 2; // toward -infinity
export const RM_RUP = 3; // toward +infinity
export const RM_RMM = 4; // to nearest, ties to max magnitude
export const RM_DYN = 7;

export type RoundingMode = 0 | 1 | 2 | 3 | 4;

/** A result bit pattern and the exception flags its computation raised. */
export interface FpResult {
  bits: bigint;
  flags: number;
}

/** Number of significant bits of n >= 0. */
export function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}
