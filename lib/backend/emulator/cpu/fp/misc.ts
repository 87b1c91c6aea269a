/**
 * Operations that never round, done on register words and JS numbers: sign injection,
 * comparisons, minimum/maximum and classification (unprivileged spec, F §"Single-Precision
 * Floating-Point Conversion and Move Instructions" for fsgnj, §"Single-Precision Floating-Point
 * Compare Instructions", §"Single-Precision Floating-Point Classify Instruction", and fmin/fmax
 * as IEEE 754-2019 §9.6 minimumNumber/maximumNumber).
 */

import { FFLAG_NV } from './format.js';
import { isSignalingF32, isSignalingF64, readF32, readF64 } from './regs.js';

const CANONICAL_NAN_S = 0x7fc00000;
const CANONICAL_NAN_D_HI = 0x7ff80000;

/** The low word of the single in f_r, or the canonical NaN's when it is not NaN-boxed. */
function singleWord(f: Int32Array, r: number): number {
  return f[2 * r + 1] === -1 ? f[2 * r]! : CANONICAL_NAN_S;
}

/**
 * fsgnj (kind 0) / fsgnjn (1) / fsgnjx (2): rs1's magnitude with rs2's sign, its inverse, or the
 * xor of both signs. No flags; NaN payloads pass through (F §"Sign injection").
 */
export function fpSignInject(isDouble: boolean, f: Int32Array, rd: number, rs1: number, rs2: number, kind: number): void {
  const a = isDouble ? f[2 * rs1 + 1]! : singleWord(f, rs1);
  const b = isDouble ? f[2 * rs2 + 1]! : singleWord(f, rs2);
  const signB = b & 0x80000000;
  const sign = kind === 0 ? signB : kind === 1 ? signB ^ 0x80000000 : (a & 0x80000000) ^ signB;
  const word = (a & 0x7fffffff) | sign;
  if (isDouble) {
    f[2 * rd] = f[2 * rs1]!;
    f[2 * rd + 1] = word;
  } else {
    f[2 * rd] = word;
    f[2 * rd + 1] = -1;
  }
}

function operands(isDouble: boolean, f: Int32Array, rs1: number, rs2: number): [number, number, boolean] {
  if (isDouble) return [readF64(f, rs1), readF64(f, rs2), isSignalingF64(f, rs1) || isSignalingF64(f, rs2)];
  return [readF32(f, rs1), readF32(f, rs2), isSignalingF32(f, rs1) || isSignalingF32(f, rs2)];
}

export interface CompareResult {
  value: boolean;
  flags: number;
}

/** feq (quiet: NV only for a signaling NaN) and flt / fle (signaling: NV for any NaN). JS
 * comparison already treats +0 and -0 as equal and NaN as unordered. */
export function fpCompare(
  isDouble: boolean,
  f: Int32Array,
  rs1: number,
  rs2: number,
  op: 'eq' | 'lt' | 'le',
): CompareResult {
  const [a, b, signaling] = operands(isDouble, f, rs1, rs2);
  if (Number.isNaN(a) || Number.isNaN(b)) {
    return { value: false, flags: op !== 'eq' || signaling ? FFLAG_NV : 0 };
  }
  return { value: op === 'eq' ? a === b : op === 'lt' ? a < b : a <= b, flags: 0 };
}

/**
 * fmin / fmax. -0 is below +0; one NaN yields the other operand; two NaNs yield the canonical NaN;
 * any signaling NaN input raises NV. Returns the flags; writes rd.
 */
export function fpMinMax(isDouble: boolean, f: Int32Array, rd: number, rs1: number, rs2: number, isMax: boolean): number {
  const [a, b, signaling] = operands(isDouble, f, rs1, rs2);
  const flags = signaling ? FFLAG_NV : 0;
  let pick: number;
  if (Number.isNaN(a) && Number.isNaN(b)) {
    f[2 * rd] = isDouble ? 0 : CANONICAL_NAN_S;
    f[2 * rd + 1] = isDouble ? CANONICAL_NAN_D_HI : -1;
    return flags;
  }
  if (Number.isNaN(a)) pick = rs2;
  else if (Number.isNaN(b)) pick = rs1;
  else if (a === b) pick = (Object.is(a, -0) ? !isMax : isMax) ? rs1 : rs2; // ±0 tie
  else pick = a < b !== isMax ? rs1 : rs2;
  f[2 * rd] = f[2 * pick]!;
  f[2 * rd + 1] = isDouble ? f[2 * pick + 1]! : -1;
  return flags;
}

/** fclass: a one-hot 10-bit mask (F table "Format of result of FCLASS instruction"). */
export function fpClassify(isDouble: boolean, f: Int32Array, rs1: number): number {
  const v = isDouble ? readF64(f, rs1) : readF32(f, rs1);
  if (Number.isNaN(v)) return (isDouble ? isSignalingF64(f, rs1) : isSignalingF32(f, rs1)) ? 1 << 8 : 1 << 9;
  if (v === -Infinity) return 1 << 0;
  if (v === Infinity) return 1 << 7;
  if (v === 0) return Object.is(v, -0) ? 1 << 3 : 1 << 4;
  const subnormal = Math.abs(v) < (isDouble ? 2 ** -1022 : 2 ** -126);
  if (v < 0) return subnormal ? 1 << 2 : 1 << 1;
  return subnormal ? 1 << 5 : 1 << 6;
}
