/**
 * Round-to-nearest-even fused multiply-add in JavaScript doubles, using rounding to odd:
 * S. Boldo and G. Melquiond, "Emulation of a FMA and correctly rounded sums: proved algorithms
 * using rounding to odd", IEEE Trans. Computers 57(4), 2008.
 *
 *   binary64: (uh, ul) = TwoProduct(a, b); (th, tl) = TwoSum(c, uh); z = RN(th + RO(tl + ul))
 *   binary32: a·b is exact in binary64, and RN24(RO53(a·b + c)) = RN24(a·b + c) because
 *             53 >= 24 + 2 (rounding to odd at two extra bits is innocuous).
 *
 * Both hold when nothing overflows or underflows, so operands and results near either end of
 * the exponent range, infinities, NaNs and zero results go to the exact path (DECLINED). Round to
 * odd is built from RN and TwoSum: if RN(x + y) is inexact and even, step one ulp toward the error.
 */

import { FFLAG_NX } from './format.js';
import { readF32, readF64, writeF32, writeF64 } from './regs.js';
import { DECLINED, productError } from './fast.js';

const TWO_POW_M900 = 2 ** -900;
const TWO_POW_995 = 2 ** 995; // keeps the Veltkamp split (2^27 + 1)·a finite
const TWO_POW_M126 = 2 ** -126;

const scratch = new DataView(new ArrayBuffer(8));

/** Error of s = RN(a + b) (Knuth's TwoSum): a + b = s + err exactly. */
function twoSumErr(a: number, b: number, s: number): number {
  const bv = s - a;
  return a - (s - bv) + (b - bv);
}

/** The double next to nonzero finite x, away from zero (up) or toward it. */
function stepMagnitude(x: number, awayFromZero: boolean): number {
  scratch.setFloat64(0, x, true);
  let lo = scratch.getUint32(0, true);
  let hi = scratch.getUint32(4, true);
  if (awayFromZero) {
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  } else {
    if (lo === 0) hi = (hi - 1) >>> 0;
    lo = (lo - 1) >>> 0;
  }
  scratch.setUint32(0, lo, true);
  scratch.setUint32(4, hi, true);
  return scratch.getFloat64(0, true);
}

/** x + y rounded to odd: the exact sum if representable, else whichever neighbour has an odd
 * last significand bit. Also reports whether the sum was exact. */
function addRoundToOdd(x: number, y: number): [number, boolean] {
  const s = x + y;
  const err = twoSumErr(x, y, s);
  if (err === 0) return [s, true];
  scratch.setFloat64(0, s, true);
  if ((scratch.getUint32(0, true) & 1) === 1) return [s, false];
  // s is even: the odd neighbour lies on the side of the error. s != 0 since a nonzero exact sum
  // never rounds to zero in RN (sums that small are exact).
  return [stepMagnitude(s, err > 0 === s > 0), false];
}

/** Whether w + x + y + z is exactly zero: Shewchuk's Grow-Expansion builds a nonoverlapping
 * expansion of the sum with TwoSum, and such an expansion is zero iff all its parts are. */
function sumIsZero(terms: number[]): boolean {
  let expansion: number[] = [];
  for (const t of terms) {
    const grown: number[] = [];
    let q = t;
    for (const e of expansion) {
      const s = q + e;
      const h = twoSumErr(q, e, s);
      if (h !== 0) grown.push(h);
      q = s;
    }
    grown.push(q);
    expansion = grown;
  }
  return expansion.every((e) => e === 0);
}

function inRange(v: number): boolean {
  const m = Math.abs(v);
  return m >= TWO_POW_M900 && m <= TWO_POW_995;
}

/** fmadd/fmsub/fnmsub/fnmadd.d in RNE. */
export function fastFmaD(f: Int32Array, rd: number, rs1: number, rs2: number, rs3: number, negP: boolean, negC: boolean): number {
  const a0 = readF64(f, rs1);
  const b = readF64(f, rs2);
  const c0 = readF64(f, rs3);
  if (!inRange(a0) || !inRange(b) || !(c0 === 0 || inRange(c0))) return DECLINED;
  const a = negP ? -a0 : a0;
  const c = negC ? -c0 : c0;
  // TwoProduct: a·b = uh + ul exactly.
  const uh = a * b;
  if (!inRange(uh)) return DECLINED;
  const ul = productError(a, b, uh);
  const th = c + uh;
  const tl = twoSumErr(c, uh, th);
  const [v] = addRoundToOdd(tl, ul);
  const z = th + v;
  if (!inRange(z)) return DECLINED; // zero, tiny or huge results: exact path
  const exact = sumIsZero([z, -th, -tl, -ul]);
  writeF64(f, rd, z);
  return exact ? 0 : FFLAG_NX;
}

/** fmadd/fmsub/fnmsub/fnmadd.s in RNE. */
export function fastFmaS(f: Int32Array, rd: number, rs1: number, rs2: number, rs3: number, negP: boolean, negC: boolean): number {
  const a = readF32(f, rs1);
  const b = readF32(f, rs2);
  const c0 = readF32(f, rs3);
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c0)) return DECLINED;
  const p = negP ? -(a * b) : a * b; // exact: 24 + 24 significant bits, exponents far from limits
  const c = negC ? -c0 : c0;
  const [odd, exactSum] = addRoundToOdd(p, c);
  const r = Math.fround(odd);
  if (!Number.isFinite(r)) return DECLINED;
  const inexact = !exactSum || r !== odd;
  if (inexact && Math.abs(r) <= TWO_POW_M126) return DECLINED; // possible underflow
  if (r === 0 && !exactSum) return DECLINED;
  writeF32(f, rd, r);
  return inexact ? FFLAG_NX : 0;
}
