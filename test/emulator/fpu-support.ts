/**
 * Test support for the FPU tests: an instruction encoder, register helpers, and an exact rational
 * reference for IEEE 754 rounding written independently of lib/backend/emulator/cpu/fp (values are
 * decoded and encoded through the host's own Float32Array/Float64Array, and rounding is decided by
 * rational comparisons instead of bit shifting).
 */

import { fpExecute } from '../../lib/backend/emulator/cpu/fpu.js';

export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;
export const DYN = 7;
export const MODES = [RNE, RTZ, RDN, RUP, RMM] as const;

export const NX = 1;
export const UF = 2;
export const OF = 4;
export const DZ = 8;
export const NV = 16;

export const S = 0;
export const D = 1;

// ---- encoder (unprivileged spec, "RV32/64G Instruction Set Listings") ----

export function opfp(funct5: number, fmt: number, rd: number, rs1: number, rs2: number, rm: number): number {
  return (0x53 | (rd << 7) | (rm << 12) | (rs1 << 15) | (rs2 << 20) | (fmt << 25) | (funct5 << 27)) >>> 0;
}

export function r4(opcode: number, fmt: number, rd: number, rs1: number, rs2: number, rs3: number, rm: number): number {
  return (opcode | (rd << 7) | (rm << 12) | (rs1 << 15) | (rs2 << 20) | (fmt << 25) | (rs3 << 27)) >>> 0;
}

export const FADD = 0x00;
export const FSUB = 0x01;
export const FMUL = 0x02;
export const FDIV = 0x03;
export const FSGNJ = 0x04;
export const FMINMAX = 0x05;
export const FCVT_FF = 0x08;
export const FSQRT = 0x0b;
export const FCMP = 0x14;
export const FCVT_X_F = 0x18;
export const FCVT_F_X = 0x1a;
export const FMV_X_F = 0x1c;
export const FMV_F_X = 0x1e;
export const FMADD = 0x43;
export const FMSUB = 0x47;
export const FNMSUB = 0x4b;
export const FNMADD = 0x4f;

// ---- machine state ----

export interface Machine {
  x: Int32Array;
  st: { f: Int32Array; fcsr: number };
}

export function machine(frm = 0): Machine {
  return { x: new Int32Array(64), st: { f: new Int32Array(64), fcsr: frm << 5 } };
}

export function setF64(m: Machine, r: number, bits: bigint): void {
  m.st.f[2 * r] = Number(BigInt.asIntN(32, bits));
  m.st.f[2 * r + 1] = Number(BigInt.asIntN(32, bits >> 32n));
}

export function getF64(m: Machine, r: number): bigint {
  return (BigInt(m.st.f[2 * r + 1]! >>> 0) << 32n) | BigInt(m.st.f[2 * r]! >>> 0);
}

/** A single in f[r], NaN-boxed. */
export function setF32(m: Machine, r: number, bits: number): void {
  m.st.f[2 * r] = bits | 0;
  m.st.f[2 * r + 1] = -1;
}

export function setX(m: Machine, r: number, value: bigint): void {
  m.x[2 * r] = Number(BigInt.asIntN(32, value));
  m.x[2 * r + 1] = Number(BigInt.asIntN(32, value >> 32n));
}

export function getX(m: Machine, r: number): bigint {
  return BigInt.asIntN(64, (BigInt(m.x[2 * r + 1]! >>> 0) << 32n) | BigInt(m.x[2 * r]! >>> 0));
}

export function exec(m: Machine, insn: number): boolean {
  return fpExecute(insn, m.x, m.st);
}

export function flags(m: Machine): number {
  return m.st.fcsr & 31;
}

// ---- host encoding of values ----

const buf = new ArrayBuffer(8);
const hostF64 = new Float64Array(buf);
const hostF32 = new Float32Array(buf);
const hostU32 = new Uint32Array(buf);
const hostBig = new BigUint64Array(buf);

export function f64Bits(v: number): bigint {
  hostF64[0] = v;
  return hostBig[0]!;
}

export function bitsF64(b: bigint): number {
  hostBig[0] = b;
  return hostF64[0]!;
}

export function f32Bits(v: number): number {
  hostF32[0] = v;
  return hostU32[0]!;
}

export function bitsF32(b: number): number {
  hostU32[0] = b >>> 0;
  return hostF32[0]!;
}

// ---- exact rational reference ----

export interface Fmt {
  fracBits: number;
  emin: number;
  emax: number;
  toBits: (v: number) => bigint;
  fromBits: (b: bigint) => number;
  canonicalNaN: bigint;
  width: number;
}

export const F32: Fmt = {
  fracBits: 23,
  emin: -126,
  emax: 127,
  toBits: (v) => BigInt(f32Bits(v)),
  fromBits: (b) => bitsF32(Number(b)),
  canonicalNaN: 0x7fc00000n,
  width: 32,
};

export const F64: Fmt = {
  fracBits: 52,
  emin: -1022,
  emax: 1023,
  toBits: f64Bits,
  fromBits: bitsF64,
  canonicalNaN: 0x7ff8000000000000n,
  width: 64,
};

/** n / d with d > 0. */
export interface Q {
  n: bigint;
  d: bigint;
}

export function pow2(e: number): Q {
  return e >= 0 ? { n: 1n << BigInt(e), d: 1n } : { n: 1n, d: 1n << BigInt(-e) };
}

export function cmpQ(a: Q, b: Q): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function addQ(a: Q, b: Q): Q {
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function mulQ(a: Q, b: Q): Q {
  return { n: a.n * b.n, d: a.d * b.d };
}

export function divQ(a: Q, b: Q): Q {
  return b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n };
}

export function negQ(a: Q): Q {
  return { n: -a.n, d: a.d };
}

/** The exact rational value of a finite JS number (via exact power-of-two scaling). */
export function exactQ(v: number): Q {
  if (!Number.isFinite(v)) throw new RangeError(`exactQ: ${v} has no rational value`);
  let y = v;
  let k = 0;
  while (!Number.isInteger(y)) {
    y *= 2 ** 60;
    k += 60;
  }
  return { n: BigInt(y), d: 1n << BigInt(k) };
}

function bitLen(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function floorLog2(a: Q): number {
  let e = bitLen(a.n) - bitLen(a.d);
  while (cmpQ(a, pow2(e)) < 0) e--;
  while (cmpQ(a, pow2(e + 1)) >= 0) e++;
  return e;
}

interface Rounded {
  m: bigint;
  inexact: boolean;
}

/** Rounds positive a to a multiple m·2^q per mode for a value of sign `neg`. */
function roundAt(a: Q, q: number, rm: number, neg: boolean): Rounded {
  const scaled = mulQ(a, pow2(-q));
  const m = scaled.n / scaled.d;
  const rem = scaled.n - m * scaled.d;
  const twice = 2n * rem;
  const inexact = rem !== 0n;
  let up: boolean;
  if (rm === RNE) up = twice > scaled.d || (twice === scaled.d && (m & 1n) === 1n);
  else if (rm === RMM) up = twice >= scaled.d;
  else if (rm === RTZ) up = false;
  else if (rm === RDN) up = inexact && neg;
  else up = inexact && !neg;
  return { m: up ? m + 1n : m, inexact };
}

export interface RefResult {
  bits: bigint;
  flags: number;
}

/** Round a nonzero rational to the format per IEEE 754-2019 with tininess after rounding. */
export function roundQ(fmt: Fmt, x: Q, rm: number): RefResult {
  const neg = x.n < 0n;
  const a = neg ? negQ(x) : x;
  const e = floorLog2(a);
  const q = Math.max(e, fmt.emin) - fmt.fracBits;
  const r = roundAt(a, q, rm, neg);
  // Overflow: rounded magnitude reaches 2^(emax+1).
  if (cmpQ(mulQ({ n: r.m, d: 1n }, pow2(q)), pow2(fmt.emax + 1)) >= 0) {
    const toInf = rm === RNE || rm === RMM || (rm === RUP && !neg) || (rm === RDN && neg);
    const maxFinite = (2 - 2 ** -fmt.fracBits) * 2 ** fmt.emax;
    const v = toInf ? Infinity : maxFinite;
    return { bits: fmt.toBits(neg ? -v : v), flags: OF | NX };
  }
  let fl = r.inexact ? NX : 0;
  if (e < fmt.emin && r.inexact) {
    const unbounded = roundAt(a, e - fmt.fracBits, rm, neg);
    const tiny = cmpQ(mulQ({ n: unbounded.m, d: 1n }, pow2(e - fmt.fracBits)), pow2(fmt.emin)) < 0;
    if (tiny) fl |= UF;
  }
  const v = Number(r.m) * 2 ** q;
  return { bits: fmt.toBits(neg ? -v : v), flags: fl };
}

/** Exact value of a rational as a canonical reference result, with the sign for an exact zero. */
export function roundQorZero(fmt: Fmt, x: Q, rm: number, zeroNegative: boolean): RefResult {
  if (x.n === 0n) return { bits: fmt.toBits(zeroNegative ? -0 : 0), flags: 0 };
  return roundQ(fmt, x, rm);
}

// ---- floor(sqrt) for the square-root reference ----

export function isqrtRef(n: bigint): bigint {
  // Bisection: slow but obviously right.
  let lo = 0n;
  let hi = 1n << BigInt((bitLen(n) >> 1) + 1);
  while (lo < hi) {
    const mid = (lo + hi + 1n) >> 1n;
    if (mid * mid <= n) lo = mid;
    else hi = mid - 1n;
  }
  return lo;
}

/** Correctly rounded sqrt of a positive rational: find the rounding quantum from floor(log2),
 * then round floor(sqrt(x)/2^q) using whether the root is exact and which side of the midpoint it
 * lies on (midpoint test by squaring). */
export function sqrtQ(fmt: Fmt, x: Q, rm: number): RefResult {
  const e = Math.floor(floorLog2(x) / 2); // floor(log2(sqrt x))
  const q = Math.max(e, fmt.emin) - fmt.fracBits; // sqrt is never tiny for these formats
  // m = floor(sqrt(x) / 2^q) = floor(sqrt(x / 4^q)) = isqrt(floor(x / 4^q))
  const s = mulQ(x, pow2(-2 * q));
  const m = isqrtRef(s.n / s.d);
  const exact = cmpQ(s, { n: m * m, d: 1n }) === 0;
  // Above the midpoint m + 1/2  <=>  s > (m + 1/2)^2 = (4m^2 + 4m + 1) / 4.
  const midCmp = cmpQ(s, { n: 4n * m * m + 4n * m + 1n, d: 4n });
  let up: boolean;
  if (rm === RNE) up = midCmp > 0 || (midCmp === 0 && (m & 1n) === 1n);
  else if (rm === RMM) up = midCmp >= 0;
  else if (rm === RUP) up = !exact;
  else up = false;
  const v = Number(up ? m + 1n : m) * 2 ** q;
  return { bits: fmt.toBits(v), flags: exact ? 0 : NX };
}

// ---- random operands ----

/** xorshift32 so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A random bit pattern biased toward the interesting places: exponents near 0, near the extremes
 * and subnormal; fractions with runs of ones or zeros (halfway cases); some specials. */
export function randomBits(next: () => number, fmt: Fmt, centerExp = 0): bigint {
  const expBits = fmt.width - 1 - fmt.fracBits;
  const bias = (1 << (expBits - 1)) - 1;
  const sign = BigInt(next() & 1);
  const pick = next() % 100;
  let expField: number;
  if (pick < 3) expField = 0;
  else if (pick < 5) expField = (1 << expBits) - 1;
  else if (pick < 10) expField = 1 + (next() % 4);
  else if (pick < 15) expField = (1 << expBits) - 2 - (next() % 4);
  else if (pick < 25) expField = 1 + (next() % ((1 << expBits) - 2));
  else expField = Math.min(Math.max(bias + centerExp + ((next() % 61) - 30), 1), (1 << expBits) - 2);
  let frac = 0n;
  const style = next() % 4;
  for (let i = 0; i < fmt.fracBits; i += 16) frac = (frac << 16n) | BigInt(next() & 0xffff);
  frac &= (1n << BigInt(fmt.fracBits)) - 1n;
  if (style === 1) frac &= ~((1n << BigInt(next() % fmt.fracBits)) - 1n); // trailing zeros
  if (style === 2) frac |= (1n << BigInt(next() % fmt.fracBits)) - 1n; // trailing ones
  if (expField === (1 << expBits) - 1 && next() % 2 === 0) frac = 0n; // infinity
  if (expField === 0 && next() % 3 === 0) frac = 0n; // zero
  return (sign << BigInt(fmt.width - 1)) | (BigInt(expField) << BigInt(fmt.fracBits)) | frac;
}

// ---- reference operations including special operands (IEEE 754-2019 §5.4, §6, §7; RISC-V
// canonical NaNs) ----

export function isSNaN(fmt: Fmt, bits: bigint): boolean {
  const v = fmt.fromBits(bits);
  return Number.isNaN(v) && ((bits >> BigInt(fmt.fracBits - 1)) & 1n) === 0n;
}

function nanRef(fmt: Fmt, ...ops: bigint[]): RefResult | null {
  const vals = ops.map((b) => fmt.fromBits(b));
  if (!vals.some((v) => Number.isNaN(v))) return null;
  return { bits: fmt.canonicalNaN, flags: ops.some((b) => isSNaN(fmt, b)) ? NV : 0 };
}

const isNeg = (v: number): boolean => v < 0 || Object.is(v, -0);

export type BinOp = 'add' | 'sub' | 'mul' | 'div';

export function refBinary(fmt: Fmt, op: BinOp, aBits: bigint, bBits: bigint, rm: number): RefResult {
  const nan = nanRef(fmt, aBits, bBits);
  if (nan) return nan;
  const a = fmt.fromBits(aBits);
  let b = fmt.fromBits(bBits);
  if (op === 'sub') b = -b;
  const invalid = { bits: fmt.canonicalNaN, flags: NV };
  if (op === 'add' || op === 'sub') {
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      const r = a + b; // the host gets infinities right
      return Number.isNaN(r) ? invalid : { bits: fmt.toBits(r), flags: 0 };
    }
    const sum = addQ(exactQ(a), exactQ(b));
    if (sum.n === 0n) {
      const bothNeg = isNeg(a) && isNeg(b);
      const negZero = a === 0 && b === 0 ? bothNeg || (rm === RDN && (isNeg(a) || isNeg(b))) : rm === RDN;
      return { bits: fmt.toBits(negZero ? -0 : 0), flags: 0 };
    }
    return roundQ(fmt, sum, rm);
  }
  if (op === 'mul') {
    if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) {
      const r = a * b;
      return Number.isNaN(r) ? invalid : { bits: fmt.toBits(r), flags: 0 };
    }
    return roundQ(fmt, mulQ(exactQ(a), exactQ(b)), rm);
  }
  if (b === 0 && a !== 0 && !Number.isNaN(a)) return { bits: fmt.toBits(a / b), flags: Number.isFinite(a) ? DZ : 0 };
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) {
    const r = a / b;
    return Number.isNaN(r) ? invalid : { bits: fmt.toBits(r), flags: 0 };
  }
  return roundQ(fmt, divQ(exactQ(a), exactQ(b)), rm);
}

export function refSqrt(fmt: Fmt, aBits: bigint, rm: number): RefResult {
  const nan = nanRef(fmt, aBits);
  if (nan) return nan;
  const a = fmt.fromBits(aBits);
  if (a === 0 || a === Infinity) return { bits: aBits, flags: 0 };
  if (a < 0) return { bits: fmt.canonicalNaN, flags: NV };
  return sqrtQ(fmt, exactQ(a), rm);
}

/** (±a·b) ± c fused. */
export function refFma(
  fmt: Fmt,
  aBits: bigint,
  bBits: bigint,
  cBits: bigint,
  rm: number,
  negProduct: boolean,
  negAddend: boolean,
): RefResult {
  const a = fmt.fromBits(aBits);
  const b = fmt.fromBits(bBits);
  const infTimesZero = (Math.abs(a) === Infinity && b === 0) || (a === 0 && Math.abs(b) === Infinity);
  const nan = nanRef(fmt, aBits, bBits, cBits);
  if (nan) return infTimesZero ? { bits: nan.bits, flags: NV } : nan;
  if (infTimesZero) return { bits: fmt.canonicalNaN, flags: NV };
  let c = fmt.fromBits(cBits);
  if (negAddend) c = -c;
  let p = a * b; // only its sign and infinity-ness are used when inexact
  if (negProduct) p = -p;
  if (!Number.isFinite(p) || !Number.isFinite(c)) {
    if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) {
      const pInf = !Number.isFinite(a) || !Number.isFinite(b);
      const r = pInf ? (Number.isFinite(c) ? p : p + c) : c;
      return Number.isNaN(r) ? { bits: fmt.canonicalNaN, flags: NV } : { bits: fmt.toBits(r), flags: 0 };
    }
  }
  let exactP = a === 0 || b === 0 ? { n: 0n, d: 1n } : mulQ(exactQ(a), exactQ(b));
  if (negProduct) exactP = negQ(exactP);
  const sum = addQ(exactP, exactQ(c));
  if (sum.n === 0n) {
    const pNeg = isNeg(a) !== isNeg(b) !== negProduct;
    const cNeg = isNeg(c);
    const bothZero = (a === 0 || b === 0) && c === 0;
    const negZero = bothZero ? (pNeg && cNeg) || (rm === RDN && (pNeg || cNeg)) : rm === RDN;
    return { bits: fmt.toBits(negZero ? -0 : 0), flags: 0 };
  }
  return roundQ(fmt, sum, rm);
}

/** Position of a non-NaN value in the ordered set of the format's values (+0 and -0 both 0). */
export function ordinal(fmt: Fmt, bits: bigint): bigint {
  const signBit = 1n << BigInt(fmt.width - 1);
  const mag = bits & (signBit - 1n);
  return (bits & signBit) !== 0n ? -mag : mag;
}
