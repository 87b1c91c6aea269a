/**
 * Decoding a bit pattern into its IEEE 754-2019 §3.4 fields: class, sign, and for finite nonzero
 * values an integer significand and exponent with value = (-1)^sign * sig * 2^exp.
 */

import { type FpFormat } from './format.js';

export const enum Kind {
  Zero = 0,
  Finite = 1,
  Infinity = 2,
  NaN = 3,
}

export interface Unpacked {
  kind: Kind;
  sign: number;
  /** Integer significand (0 for zero, infinity and NaN). */
  sig: bigint;
  exp: number;
  /** NaN with the quiet bit clear. */
  signaling: boolean;
}

export function unpack(fmt: FpFormat, bits: bigint): Unpacked {
  const sign = (bits & fmt.signBit) === 0n ? 0 : 1;
  const expField = Number((bits >> BigInt(fmt.fracBits)) & BigInt((1 << fmt.expBits) - 1));
  const frac = bits & fmt.fracMask;
  const maxExp = (1 << fmt.expBits) - 1;
  if (expField === maxExp) {
    if (frac === 0n) return { kind: Kind.Infinity, sign, sig: 0n, exp: 0, signaling: false };
    return { kind: Kind.NaN, sign, sig: 0n, exp: 0, signaling: (frac & fmt.quietBit) === 0n };
  }
  if (expField === 0) {
    if (frac === 0n) return { kind: Kind.Zero, sign, sig: 0n, exp: 0, signaling: false };
    return { kind: Kind.Finite, sign, sig: frac, exp: fmt.emin - fmt.fracBits, signaling: false };
  }
  return {
    kind: Kind.Finite,
    sign,
    sig: frac | (1n << BigInt(fmt.fracBits)),
    exp: expField - fmt.bias - fmt.fracBits,
    signaling: false,
  };
}
