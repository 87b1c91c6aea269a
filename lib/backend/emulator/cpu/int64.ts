/**
 * 64-bit integer helpers over (lo, hi) int32 pairs for the M extension (unprivileged spec chapter
 * "M": MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU and their W forms). Results go to `r64` ([lo, hi])
 * so the interpreter's hot path allocates nothing. Division by zero and signed overflow give the
 * values the spec's Table "Semantics for division by zero and division overflow" defines.
 */

/** Result of the last helper call: r64[0] = low word, r64[1] = high word. */
export const r64 = new Int32Array(2);

/** Scratch limbs for the 128-bit product (16-bit limbs, little-endian). */
const prod = new Int32Array(8);

/** Unsigned 64 x 64 -> 128 product into `prod` as eight 16-bit limbs. */
function mulu128(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff, a1 = alo >>> 16, a2 = ahi & 0xffff, a3 = ahi >>> 16;
  const b0 = blo & 0xffff, b1 = blo >>> 16, b2 = bhi & 0xffff, b3 = bhi >>> 16;
  // Column sums stay below 2^53 (at most 4 products of 2^32 plus carries), so doubles are exact.
  let c = a0 * b0;
  prod[0] = c & 0xffff; c = Math.floor(c / 65536);
  c += a0 * b1 + a1 * b0;
  prod[1] = c & 0xffff; c = Math.floor(c / 65536);
  c += a0 * b2 + a1 * b1 + a2 * b0;
  prod[2] = c & 0xffff; c = Math.floor(c / 65536);
  c += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  prod[3] = c & 0xffff; c = Math.floor(c / 65536);
  c += a1 * b3 + a2 * b2 + a3 * b1;
  prod[4] = c & 0xffff; c = Math.floor(c / 65536);
  c += a2 * b3 + a3 * b2;
  prod[5] = c & 0xffff; c = Math.floor(c / 65536);
  c += a3 * b3;
  prod[6] = c & 0xffff; c = Math.floor(c / 65536);
  prod[7] = c & 0xffff;
}

/** MUL: low 64 bits of the product (same for signed and unsigned operands). */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  // Low 32x32 -> 64 unsigned product from 16-bit halves, then the cross terms into the high word.
  const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
  const low = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + (low >>> 16); // < 2^34, exact in a double
  r64[0] = (mid << 16) | (low & 0xffff);
  r64[1] = (a1 * b1 + ((mid / 65536) | 0) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/** MULHU: high 64 bits of the unsigned product. */
export function mulhu64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulu128(alo, ahi, blo, bhi);
  r64[0] = prod[4] | (prod[5] << 16);
  r64[1] = prod[6] | (prod[7] << 16);
}

/** Subtract (lo, hi) from r64 in place. */
function subR64(lo: number, hi: number): void {
  const rlo = r64[0];
  const nlo = (rlo - lo) | 0;
  const borrow = (rlo >>> 0) < (lo >>> 0) ? 1 : 0;
  r64[0] = nlo;
  r64[1] = (r64[1] - hi - borrow) | 0;
}

/** MULH: high 64 bits of the signed x signed product (unsigned product corrected for signs). */
export function mulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulhu64(alo, ahi, blo, bhi);
  if (ahi < 0) subR64(blo, bhi);
  if (bhi < 0) subR64(alo, ahi);
}

/** MULHSU: high 64 bits of signed a x unsigned b. */
export function mulhsu64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulhu64(alo, ahi, blo, bhi);
  if (ahi < 0) subR64(blo, bhi);
}

function toBigU(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function toBigS(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

function fromBig(v: bigint): void {
  r64[0] = Number(BigInt.asIntN(32, v));
  r64[1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** True when (lo, hi) is the sign extension of lo: the value fits in int32. */
function isInt32(lo: number, hi: number): boolean {
  return hi === lo >> 31;
}

/** DIV (signed). Quotient of int32-sized operands is computed in doubles; wider ones in BigInt
 * (division is rare next to the ALU/load/store mix the hot loop is tuned for). */
export function div64(alo: number, ahi: number, blo: number, bhi: number): void {
  if ((blo | bhi) === 0) {
    r64[0] = -1; r64[1] = -1;
    return;
  }
  if (isInt32(alo, ahi) && isInt32(blo, bhi)) {
    // -2^31 / -1 = 2^31 fits in 64 bits, so no overflow case here.
    const q = Math.trunc(alo / blo);
    r64[0] = q | 0; r64[1] = q < 0 ? -1 : 0;
    if (q === 2147483648) { r64[0] = -2147483648; r64[1] = 0; }
    return;
  }
  if (ahi === -2147483648 && alo === 0 && blo === -1 && bhi === -1) {
    r64[0] = 0; r64[1] = -2147483648; // overflow: quotient = dividend
    return;
  }
  fromBig(toBigS(alo, ahi) / toBigS(blo, bhi));
}

/** DIVU (unsigned). */
export function divu64(alo: number, ahi: number, blo: number, bhi: number): void {
  if ((blo | bhi) === 0) {
    r64[0] = -1; r64[1] = -1;
    return;
  }
  if (ahi === 0 && bhi === 0) {
    const q = Math.floor((alo >>> 0) / (blo >>> 0));
    r64[0] = q | 0; r64[1] = 0;
    return;
  }
  fromBig(toBigU(alo, ahi) / toBigU(blo, bhi));
}

/** REM (signed; sign follows the dividend). */
export function rem64(alo: number, ahi: number, blo: number, bhi: number): void {
  if ((blo | bhi) === 0) {
    r64[0] = alo; r64[1] = ahi;
    return;
  }
  if (isInt32(alo, ahi) && isInt32(blo, bhi)) {
    const r = alo % blo; // JS % truncates toward zero like RISC-V REM; -2^31 % -1 = -0 -> 0
    r64[0] = r | 0; r64[1] = r < 0 ? -1 : 0;
    return;
  }
  if (ahi === -2147483648 && alo === 0 && blo === -1 && bhi === -1) {
    r64[0] = 0; r64[1] = 0;
    return;
  }
  fromBig(toBigS(alo, ahi) % toBigS(blo, bhi));
}

/** REMU (unsigned). */
export function remu64(alo: number, ahi: number, blo: number, bhi: number): void {
  if ((blo | bhi) === 0) {
    r64[0] = alo; r64[1] = ahi;
    return;
  }
  if (ahi === 0 && bhi === 0) {
    r64[0] = ((alo >>> 0) % (blo >>> 0)) | 0; r64[1] = 0;
    return;
  }
  fromBig(toBigU(alo, ahi) % toBigU(blo, bhi));
}

/** DIVW/DIVUW/REMW/REMUW: 32-bit operation, result sign-extended to 64 bits (returned as int32). */
export function divw(a: number, b: number): number {
  if (b === 0) return -1;
  if (a === -2147483648 && b === -1) return a;
  return Math.trunc(a / b) | 0;
}
export function divuw(a: number, b: number): number {
  if (b === 0) return -1;
  return Math.floor((a >>> 0) / (b >>> 0)) | 0;
}
export function remw(a: number, b: number): number {
  if (b === 0) return a;
  if (a === -2147483648 && b === -1) return 0;
  return (a % b) | 0;
}
export function remuw(a: number, b: number): number {
  if (b === 0) return a;
  return ((a >>> 0) % (b >>> 0)) | 0;
}
