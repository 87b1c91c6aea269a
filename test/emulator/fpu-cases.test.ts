/**
 * Hand-derived F/D cases: each expected value is worked out in the comment beside it from the
 * RISC-V unprivileged spec (F and D chapters) and IEEE 754-2019, not taken from the implementation.
 */

import { describe, expect, it } from 'vitest';
import {
  bitsF32,
  bitsF64,
  D,
  DZ,
  exec,
  f32Bits,
  f64Bits,
  FADD,
  FCMP,
  FCVT_F_X,
  FCVT_FF,
  FCVT_X_F,
  FDIV,
  flags,
  FMADD,
  FMINMAX,
  FMSUB,
  FMUL,
  FMV_F_X,
  FMV_X_F,
  FNMADD,
  FNMSUB,
  FSGNJ,
  FSQRT,
  FSUB,
  getF64,
  getX,
  machine,
  type Machine,
  MODES,
  NV,
  NX,
  OF,
  opfp,
  r4,
  RDN,
  RMM,
  RNE,
  RTZ,
  RUP,
  S,
  setF32,
  setF64,
  setX,
  UF,
  DYN,
} from './fpu-support.js';

const QNAN_D = 0x7ff8000000000000n;
const QNAN_S = 0x7fc00000;
const SNAN_D = 0x7ff0000000000001n; // quiet bit clear, payload 1
const SNAN_S = 0x7f800001;
const MAX_D = Number.MAX_VALUE; // (2 - 2^-52) * 2^1023
const MAX_S = bitsF32(0x7f7fffff); // (2 - 2^-23) * 2^127
const MIN_SUB_D = 2 ** -1074;
const MIN_NORM_D = 2 ** -1022;

interface Out {
  bits: bigint;
  flags: number;
}

/** Binary .d op on JS numbers (or raw bigint patterns). */
function d2(funct5: number, a: number | bigint, b: number | bigint, rm: number, frm = 0): Out {
  const m = machine(frm);
  setF64(m, 1, typeof a === 'bigint' ? a : f64Bits(a));
  setF64(m, 2, typeof b === 'bigint' ? b : f64Bits(b));
  expect(exec(m, opfp(funct5, D, 3, 1, 2, rm))).toBe(true);
  return { bits: getF64(m, 3), flags: flags(m) };
}

/** Binary .s op on binary32 values given as numbers (exactly representable) or raw patterns. */
function s2(funct5: number, a: number, b: number, rm: number, raw = false): Out {
  const m = machine();
  setF32(m, 1, raw ? a : f32Bits(a));
  setF32(m, 2, raw ? b : f32Bits(b));
  expect(exec(m, opfp(funct5, S, 3, 1, 2, rm))).toBe(true);
  const bits = getF64(m, 3);
  expect(bits >> 32n).toBe(0xffffffffn); // results are NaN-boxed
  return { bits: bits & 0xffffffffn, flags: flags(m) };
}

const D_ = (v: number): bigint => f64Bits(v);
const S_ = (v: number): bigint => BigInt(f32Bits(v));

function fma(opcode: number, fmt: number, a: bigint, b: bigint, c: bigint, rm: number): Out {
  const m = machine();
  for (const [r, v] of [
    [1, a],
    [2, b],
    [4, c],
  ] as const) {
    if (fmt === D) setF64(m, r, v);
    else setF32(m, r, Number(v));
  }
  expect(exec(m, r4(opcode, fmt, 3, 1, 2, 4, rm))).toBe(true);
  const bits = getF64(m, 3);
  return { bits: fmt === S ? bits & 0xffffffffn : bits, flags: flags(m) };
}

describe('NaN boxing and canonical NaNs', () => {
  it('a single operand that is not NaN-boxed reads as the canonical NaN', () => {
    for (const hi of [0, 0x7fffffff, -2]) {
      const m = machine();
      m.st.f[2] = f32Bits(1); // 1.0f, but the high word is not all ones
      m.st.f[3] = hi;
      setF32(m, 2, f32Bits(2));
      expect(exec(m, opfp(FADD, S, 3, 1, 2, RNE))).toBe(true);
      expect(getF64(m, 3)).toBe(0xffffffff7fc00000n);
      expect(flags(m)).toBe(0); // the canonical NaN is quiet
    }
  });
  it('conversions and classification see an unboxed single as the canonical (quiet) NaN', () => {
    const m = machine();
    m.st.f[2] = f32Bits(3); // f1 = 3.0f but not boxed
    m.st.f[3] = 0;
    expect(exec(m, opfp(FCVT_X_F, S, 5, 1, 0, RTZ))).toBe(true); // fcvt.w.s: NaN → 2^31 - 1, NV
    expect([getX(m, 5), flags(m)]).toEqual([2n ** 31n - 1n, NV]);
    const m2 = machine();
    m2.st.f[2] = f32Bits(3);
    expect(exec(m2, opfp(FCVT_FF, D, 2, 1, 0, RNE))).toBe(true); // fcvt.d.s: canonical, quiet: no NV
    expect([getF64(m2, 2), flags(m2)]).toEqual([QNAN_D, 0]);
    expect(exec(m2, opfp(FMV_X_F, S, 6, 1, 0, 1))).toBe(true); // fclass.s: quiet NaN
    expect(getX(m2, 6)).toBe(1n << 9n);
  });
  it('NaN results are canonical whatever the input payload or sign', () => {
    expect(d2(FADD, 0xfff8000000000123n, 1, RNE)).toEqual({ bits: QNAN_D, flags: 0 });
    expect(d2(FMUL, SNAN_D, 1, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(s2(FADD, 0xffc00123, f32Bits(1), RNE, true)).toEqual({ bits: 0x7fc00000n, flags: 0 });
    expect(s2(FDIV, SNAN_S, f32Bits(1), RNE, true)).toEqual({ bits: 0x7fc00000n, flags: NV });
  });
  it('fmv.x.w moves the raw low word sign-extended; fmv.w.x boxes; fmv.x.d/fmv.d.x move 64 bits untouched', () => {
    const m = machine();
    m.st.f[2] = 0x89abcdef | 0; // not boxed: fmv.x.w ignores boxing
    m.st.f[3] = 0x12345678;
    expect(exec(m, opfp(FMV_X_F, S, 5, 1, 0, 0))).toBe(true);
    expect(getX(m, 5)).toBe(BigInt.asIntN(64, 0xffffffff89abcdefn));
    setX(m, 6, 0x123456789abcdef0n);
    expect(exec(m, opfp(FMV_F_X, S, 7, 6, 0, 0))).toBe(true);
    expect(getF64(m, 7)).toBe(0xffffffff9abcdef0n);
    expect(exec(m, opfp(FMV_F_X, D, 8, 6, 0, 0))).toBe(true);
    expect(getF64(m, 8)).toBe(0x123456789abcdef0n);
    setF64(m, 9, SNAN_D);
    expect(exec(m, opfp(FMV_X_F, D, 10, 9, 0, 0))).toBe(true);
    expect(getX(m, 10)).toBe(SNAN_D); // no canonicalization, no flag
    expect(flags(m)).toBe(0);
  });
  it('sign injection keeps NaN payloads and applies to the canonical NaN of an unboxed operand', () => {
    const m = machine();
    setF64(m, 1, SNAN_D);
    setF64(m, 2, D_(-1));
    expect(exec(m, opfp(FSGNJ, D, 3, 1, 2, 2))).toBe(true); // fsgnjx: sign 0 ^ 1
    expect(getF64(m, 3)).toBe(SNAN_D | (1n << 63n));
    expect(flags(m)).toBe(0);
    m.st.f[8] = 0; // f4 single, not boxed
    m.st.f[9] = 0;
    expect(exec(m, opfp(FSGNJ, S, 5, 4, 4, 1))).toBe(true); // fsgnjn: !sign(canonical NaN) = 1
    expect(getF64(m, 5)).toBe(0xffffffffffc00000n);
  });
  it('fcvt between formats canonicalizes NaNs and raises NV only for signaling ones', () => {
    const m = machine();
    setF32(m, 1, SNAN_S);
    expect(exec(m, opfp(FCVT_FF, D, 2, 1, 0, RNE))).toBe(true);
    expect([getF64(m, 2), flags(m)]).toEqual([QNAN_D, NV]);
    const m2 = machine();
    setF64(m2, 1, 0xfff8000000000042n);
    expect(exec(m2, opfp(FCVT_FF, S, 2, 1, 1, RNE))).toBe(true);
    expect([getF64(m2, 2), flags(m2)]).toEqual([0xffffffff7fc00000n, 0]);
  });
});

describe('signed zeros (IEEE 754-2019 §6.3)', () => {
  it('x + (-x) is +0 except in RDN where it is -0', () => {
    for (const rm of MODES) {
      const want = rm === RDN ? D_(-0) : D_(0);
      expect(d2(FADD, 1.5, -1.5, rm), `rm ${rm}`).toEqual({ bits: want, flags: 0 });
      expect(d2(FSUB, 3, 3, rm), `rm ${rm}`).toEqual({ bits: want, flags: 0 });
      expect(s2(FADD, 1.5, -1.5, rm).bits, `rm ${rm}`).toBe(rm === RDN ? 0x80000000n : 0n);
    }
  });
  it('sums of zeros: same signs keep the sign, mixed give +0 (-0 in RDN)', () => {
    for (const rm of MODES) {
      expect(d2(FADD, -0, -0, rm).bits).toBe(D_(-0));
      expect(d2(FADD, 0, -0, rm).bits).toBe(rm === RDN ? D_(-0) : D_(0));
      expect(d2(FSUB, 0, 0, rm).bits).toBe(rm === RDN ? D_(-0) : D_(0));
    }
  });
  it('products, quotients and roots of zeros carry the right sign', () => {
    expect(d2(FMUL, -0, 5, RNE).bits).toBe(D_(-0));
    expect(d2(FDIV, 0, -3, RNE).bits).toBe(D_(-0));
    const m = machine();
    setF64(m, 1, D_(-0));
    expect(exec(m, opfp(FSQRT, D, 2, 1, 0, RNE))).toBe(true);
    expect([getF64(m, 2), flags(m)]).toEqual([D_(-0), 0]); // sqrt(-0) = -0, not invalid
  });
  it('fused zero results: exact-zero sums and zero products', () => {
    // 1*1 + (-1) is an exact zero of mixed signs: +0, or -0 in RDN.
    expect(fma(FMADD, D, D_(1), D_(1), D_(-1), RNE).bits).toBe(D_(0));
    expect(fma(FMADD, D, D_(1), D_(1), D_(-1), RDN).bits).toBe(D_(-0));
    // (+0·5) + (-0): mixed-sign zeros.
    expect(fma(FMADD, D, D_(0), D_(5), D_(-0), RNE).bits).toBe(D_(0));
    expect(fma(FMADD, D, D_(0), D_(5), D_(-0), RDN).bits).toBe(D_(-0));
    // fnmadd: -(0·1) - 0 = (-0) + (-0) = -0 in every mode.
    expect(fma(FNMADD, D, D_(0), D_(1), D_(0), RNE).bits).toBe(D_(-0));
    // fmsub: (-0·5) - (+0) = -0 + -0 = -0.
    expect(fma(FMSUB, S, S_(-0), S_(5), S_(0), RUP).bits).toBe(0x80000000n);
  });
});

describe('subnormals and underflow (tininess after rounding)', () => {
  it('half the smallest subnormal rounds per mode and raises UF|NX', () => {
    // 2^-1075 lies exactly halfway between 0 (even) and 2^-1074.
    const want: Record<number, number> = {
      [RNE]: 0,
      [RTZ]: 0,
      [RDN]: 0,
      [RUP]: MIN_SUB_D,
      [RMM]: MIN_SUB_D,
    };
    for (const rm of MODES) {
      expect(d2(FDIV, MIN_SUB_D, 2, rm), `rm ${rm}`).toEqual({ bits: D_(want[rm]!), flags: UF | NX });
    }
    // -2^-1075: RDN goes away from zero, RUP toward it.
    expect(d2(FMUL, -MIN_SUB_D, 0.5, RDN)).toEqual({ bits: D_(-MIN_SUB_D), flags: UF | NX });
    expect(d2(FMUL, -MIN_SUB_D, 0.5, RUP)).toEqual({ bits: D_(-0), flags: UF | NX });
  });
  it('an exact subnormal result is tiny but not inexact: no flags', () => {
    expect(d2(FDIV, MIN_NORM_D, 2, RNE)).toEqual({ bits: D_(2 ** -1023), flags: 0 });
    expect(d2(FADD, MIN_SUB_D, MIN_SUB_D, RNE)).toEqual({ bits: D_(2 ** -1073), flags: 0 });
    expect(d2(FMUL, 3 * MIN_SUB_D, 2 ** 60, RUP)).toEqual({ bits: D_(3 * 2 ** -1014), flags: 0 });
  });
  it('rounds up to the smallest normal without UF when the unbounded-exponent result is not tiny', () => {
    // (1 - 2^-27)(1 + 2^-27) 2^-1022 = 2^-1022 (1 - 2^-54): with unbounded exponent and p = 53 it
    // is a tie between 2^-1022 (1 - 2^-53) (odd) and 2^-1022 (even) → 2^-1022, so not tiny: NX only.
    // In RTZ/RDN it stays below 2^-1022 (largest subnormal) and is tiny: UF|NX.
    const a = 1 - 2 ** -27;
    const b = MIN_NORM_D * (1 + 2 ** -27);
    expect(d2(FMUL, a, b, RNE)).toEqual({ bits: D_(MIN_NORM_D), flags: NX });
    expect(d2(FMUL, a, b, RMM)).toEqual({ bits: D_(MIN_NORM_D), flags: NX });
    expect(d2(FMUL, a, b, RUP)).toEqual({ bits: D_(MIN_NORM_D), flags: NX });
    expect(d2(FMUL, a, b, RTZ)).toEqual({ bits: D_(MIN_NORM_D - MIN_SUB_D), flags: UF | NX });
    expect(d2(FMUL, a, b, RDN)).toEqual({ bits: D_(MIN_NORM_D - MIN_SUB_D), flags: UF | NX });
  });
  it('rounds up to the smallest normal with UF when the unbounded-exponent result is tiny', () => {
    // (2 - 2^-52) · 2^-1023 = 2^-1022 - 2^-1075 is exact at p = 53 (so tiny), and halfway between
    // the largest subnormal (odd) and 2^-1022 (even) on the subnormal grid → 2^-1022 with UF|NX.
    expect(d2(FMUL, 2 - 2 ** -52, 2 ** -1023, RNE)).toEqual({ bits: D_(MIN_NORM_D), flags: UF | NX });
    // Same in binary32: (2 - 2^-23) · 2^-127 = 2^-126 - 2^-150.
    expect(s2(FMUL, 2 - 2 ** -23, 2 ** -127, RNE)).toEqual({ bits: S_(2 ** -126), flags: UF | NX });
  });
  it('fcvt.s.d into the subnormal range', () => {
    const cvt = (v: number, rm: number): Out => {
      const m = machine();
      setF64(m, 1, D_(v));
      expect(exec(m, opfp(FCVT_FF, S, 2, 1, 1, rm))).toBe(true);
      return { bits: getF64(m, 2) & 0xffffffffn, flags: flags(m) };
    };
    expect(cvt(2 ** -149, RNE)).toEqual({ bits: 1n, flags: 0 }); // smallest subnormal, exact
    expect(cvt(2 ** -150, RNE)).toEqual({ bits: 0n, flags: UF | NX }); // tie → even (0)
    expect(cvt(3 * 2 ** -151, RNE)).toEqual({ bits: 1n, flags: UF | NX }); // 0.75 ulp → 1 ulp
    expect(cvt(1e-300, RUP)).toEqual({ bits: 1n, flags: UF | NX });
    expect(cvt(-1e-300, RNE)).toEqual({ bits: 0x80000000n, flags: UF | NX });
  });
});

describe('overflow: infinity or the largest finite value per rounding mode (IEEE 754-2019 §7.4)', () => {
  it('positive and negative overflow in every mode', () => {
    // RNE/RMM → ∞; RTZ → max; RDN → +max / -∞; RUP → +∞ / -max. Always OF|NX.
    const pos: Record<number, number> = { [RNE]: Infinity, [RTZ]: MAX_D, [RDN]: MAX_D, [RUP]: Infinity, [RMM]: Infinity };
    const neg: Record<number, number> = { [RNE]: -Infinity, [RTZ]: -MAX_D, [RDN]: -Infinity, [RUP]: -MAX_D, [RMM]: -Infinity };
    for (const rm of MODES) {
      expect(d2(FMUL, MAX_D, 2, rm), `rm ${rm}`).toEqual({ bits: D_(pos[rm]!), flags: OF | NX });
      expect(d2(FADD, -MAX_D, -MAX_D, rm), `rm ${rm}`).toEqual({ bits: D_(neg[rm]!), flags: OF | NX });
      const s = s2(FMUL, MAX_S, 4, rm);
      expect(s, `rm ${rm}`).toEqual({ bits: S_(Math.fround(pos[rm] === MAX_D ? MAX_S : Infinity)), flags: OF | NX });
    }
  });
  it('at the boundary: half an ulp above max overflows in RNE, a quarter does not', () => {
    // ulp(max) = 2^971. max + 2^970 is a tie between max (odd significand) and 2^1024 → overflow.
    expect(d2(FADD, MAX_D, 2 ** 970, RNE)).toEqual({ bits: D_(Infinity), flags: OF | NX });
    expect(d2(FADD, MAX_D, 2 ** 969, RNE)).toEqual({ bits: D_(MAX_D), flags: NX });
    expect(d2(FADD, MAX_D, 2 ** 969, RUP)).toEqual({ bits: D_(Infinity), flags: OF | NX });
    expect(d2(FADD, MAX_D, 2 ** 969, RTZ)).toEqual({ bits: D_(MAX_D), flags: NX });
  });
  it('fcvt.s.d of a value beyond binary32 range', () => {
    const m = machine();
    setF64(m, 1, D_(1e39));
    expect(exec(m, opfp(FCVT_FF, S, 2, 1, 1, RTZ))).toBe(true);
    expect([getF64(m, 2), flags(m)]).toEqual([0xffffffff7f7fffffn, OF | NX]);
  });
});

describe('rounding on and near halfway in every mode', () => {
  const U = 2 ** -52; // ulp of 1 in binary64
  it('exact ties', () => {
    // 1 + 2^-53: tie between 1 (even) and 1 + 2^-52.
    const t1: Record<number, number> = { [RNE]: 1, [RTZ]: 1, [RDN]: 1, [RUP]: 1 + U, [RMM]: 1 + U };
    // 1 + 2^-52 + 2^-53: tie between 1 + 2^-52 (odd) and 1 + 2^-51 (even).
    const t2: Record<number, number> = { [RNE]: 1 + 2 * U, [RTZ]: 1 + U, [RDN]: 1 + U, [RUP]: 1 + 2 * U, [RMM]: 1 + 2 * U };
    // -(1 + 2^-53): RDN moves away from zero, RUP toward it.
    const t3: Record<number, number> = { [RNE]: -1, [RTZ]: -1, [RDN]: -1 - U, [RUP]: -1, [RMM]: -1 - U };
    for (const rm of MODES) {
      expect(d2(FADD, 1, U / 2, rm), `rm ${rm}`).toEqual({ bits: D_(t1[rm]!), flags: NX });
      expect(d2(FADD, 1 + U, U / 2, rm), `rm ${rm}`).toEqual({ bits: D_(t2[rm]!), flags: NX });
      expect(d2(FSUB, -1, U / 2, rm), `rm ${rm}`).toEqual({ bits: D_(t3[rm]!), flags: NX });
    }
  });
  it('just above and just below a tie', () => {
    // 1 + 2^-53 (1 + 2^-52): above the tie → nearest modes round up.
    const above: Record<number, number> = { [RNE]: 1 + U, [RTZ]: 1, [RDN]: 1, [RUP]: 1 + U, [RMM]: 1 + U };
    // 1 + (2^-53 - 2^-106): below the tie → nearest modes round down.
    const below: Record<number, number> = { [RNE]: 1, [RTZ]: 1, [RDN]: 1, [RUP]: 1 + U, [RMM]: 1 };
    for (const rm of MODES) {
      expect(d2(FADD, 1, (U / 2) * (1 + U), rm).bits, `rm ${rm}`).toBe(D_(above[rm]!));
      expect(d2(FADD, 1, U / 2 - U * U / 4, rm).bits, `rm ${rm}`).toBe(D_(below[rm]!));
    }
  });
  it('binary32 ties and dynamic rounding from frm', () => {
    const u = 2 ** -23;
    const t: Record<number, number> = { [RNE]: 1, [RTZ]: 1, [RDN]: 1, [RUP]: 1 + u, [RMM]: 1 + u };
    for (const rm of MODES) expect(s2(FADD, 1, u / 2, rm), `rm ${rm}`).toEqual({ bits: S_(t[rm]!), flags: NX });
    // rm = DYN takes the mode from fcsr.frm.
    for (const frm of MODES) {
      expect(d2(FADD, 1, U / 2, DYN, frm).bits, `frm ${frm}`).toBe(D_(t[frm] === 1 ? 1 : 1 + U));
    }
  });
  it('integer to float conversions round per mode', () => {
    const cvt = (fmt: number, rs2: number, v: bigint, rm: number): Out => {
      const m = machine();
      setX(m, 1, v);
      expect(exec(m, opfp(FCVT_F_X, fmt, 2, 1, rs2, rm))).toBe(true);
      const bits = getF64(m, 2);
      return { bits: fmt === S ? bits & 0xffffffffn : bits, flags: flags(m) };
    };
    // 2^24 + 1 is a tie between 2^24 (even) and 2^24 + 2 in binary32.
    expect(cvt(S, 0, 2n ** 24n + 1n, RNE)).toEqual({ bits: S_(2 ** 24), flags: NX });
    expect(cvt(S, 0, 2n ** 24n + 1n, RUP)).toEqual({ bits: S_(2 ** 24 + 2), flags: NX });
    expect(cvt(S, 0, -(2n ** 24n) - 1n, RMM)).toEqual({ bits: S_(-(2 ** 24) - 2), flags: NX });
    // fcvt.d.w uses only the low 32 bits, sign-extended; fcvt.d.wu zero-extends them.
    expect(cvt(D, 0, 0x12345678ffffffffn, RNE)).toEqual({ bits: D_(-1), flags: 0 });
    expect(cvt(D, 1, 0x12345678ffffffffn, RNE)).toEqual({ bits: D_(4294967295), flags: 0 });
    // fcvt.d.lu of 2^64 - 1 → 2^64 (needs 64 bits; rounds up) ; RTZ → 2^64 - 2^11.
    expect(cvt(D, 3, -1n, RNE)).toEqual({ bits: D_(2 ** 64), flags: NX });
    expect(cvt(D, 3, -1n, RTZ)).toEqual({ bits: D_(2 ** 64 - 2048), flags: NX });
    // fcvt.d.l of -2^63 is exact; of 2^53 + 1 is a tie → 2^53.
    expect(cvt(D, 2, -(2n ** 63n), RNE)).toEqual({ bits: D_(-(2 ** 63)), flags: 0 });
    expect(cvt(D, 2, 2n ** 53n + 1n, RNE)).toEqual({ bits: D_(2 ** 53), flags: NX });
    expect(cvt(D, 2, 0n, RDN)).toEqual({ bits: D_(0), flags: 0 }); // +0 even in RDN
  });
});

describe('fflags of each operation', () => {
  it('division by zero and invalid operations', () => {
    expect(d2(FDIV, 1, 0, RNE)).toEqual({ bits: D_(Infinity), flags: DZ });
    expect(d2(FDIV, -1, 0, RNE)).toEqual({ bits: D_(-Infinity), flags: DZ });
    expect(d2(FDIV, 1, -0, RNE)).toEqual({ bits: D_(-Infinity), flags: DZ });
    expect(d2(FDIV, 0, 0, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(d2(FDIV, Infinity, -Infinity, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(d2(FDIV, Infinity, 0, RNE)).toEqual({ bits: D_(Infinity), flags: 0 }); // not DZ: ∞ is exact
    expect(d2(FDIV, 1, Infinity, RNE)).toEqual({ bits: D_(0), flags: 0 });
    expect(d2(FADD, Infinity, -Infinity, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(d2(FSUB, Infinity, Infinity, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(d2(FMUL, Infinity, 0, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(s2(FDIV, 1, 0, RNE)).toEqual({ bits: S_(Infinity), flags: DZ });
    expect(s2(FMUL, -0, Infinity, RNE)).toEqual({ bits: BigInt(QNAN_S), flags: NV });
  });
  it('square roots', () => {
    const sq = (fmt: number, bits: bigint, rm = RNE): Out => {
      const m = machine();
      if (fmt === D) setF64(m, 1, bits);
      else setF32(m, 1, Number(bits));
      expect(exec(m, opfp(FSQRT, fmt, 2, 1, 0, rm))).toBe(true);
      const r = getF64(m, 2);
      return { bits: fmt === S ? r & 0xffffffffn : r, flags: flags(m) };
    };
    expect(sq(D, D_(-1))).toEqual({ bits: QNAN_D, flags: NV });
    expect(sq(D, D_(-Infinity))).toEqual({ bits: QNAN_D, flags: NV });
    expect(sq(D, D_(-MIN_SUB_D))).toEqual({ bits: QNAN_D, flags: NV });
    expect(sq(D, D_(Infinity))).toEqual({ bits: D_(Infinity), flags: 0 });
    expect(sq(D, D_(4))).toEqual({ bits: D_(2), flags: 0 });
    expect(sq(D, D_(MIN_SUB_D))).toEqual({ bits: D_(2 ** -537), flags: 0 }); // sqrt(2^-1074) exact
    // √2 = 1.41421356237309504880…; the nearest double 0x3ff6a09e667f3bcd = 1.41421356237309514547…
    // is above it, so RNE gives …bcd and RTZ the double below, …bcc.
    expect(sq(D, D_(2), RNE)).toEqual({ bits: 0x3ff6a09e667f3bcdn, flags: NX });
    expect(sq(D, D_(2), RTZ)).toEqual({ bits: 0x3ff6a09e667f3bccn, flags: NX });
    expect(sq(S, S_(2), RUP)).toEqual({ bits: 0x3fb504f4n, flags: NX }); // √2 = 0x3fb504f3.33… → up
    expect(sq(S, S_(-2))).toEqual({ bits: BigInt(QNAN_S), flags: NV });
  });
  it('inexact, and flags accumulate without touching frm', () => {
    const m = machine(RUP);
    m.st.fcsr |= DZ;
    setF64(m, 1, D_(1));
    setF64(m, 2, D_(3));
    expect(exec(m, opfp(FDIV, D, 3, 1, 2, RNE))).toBe(true);
    expect(m.st.fcsr).toBe((RUP << 5) | DZ | NX);
    expect(getF64(m, 3)).toBe(D_(1 / 3));
  });
  it('comparisons: feq is quiet, flt/fle signal on any NaN', () => {
    const cmp = (fmt: number, rm: number, a: bigint, b: bigint): [bigint, number] => {
      const m = machine();
      if (fmt === D) {
        setF64(m, 1, a);
        setF64(m, 2, b);
      } else {
        setF32(m, 1, Number(a));
        setF32(m, 2, Number(b));
      }
      setX(m, 5, 77n);
      expect(exec(m, opfp(FCMP, fmt, 5, 1, 2, rm))).toBe(true);
      return [getX(m, 5), flags(m)];
    };
    const FEQ = 2;
    const FLT = 1;
    const FLE = 0;
    expect(cmp(D, FEQ, QNAN_D, D_(1))).toEqual([0n, 0]);
    expect(cmp(D, FEQ, SNAN_D, D_(1))).toEqual([0n, NV]);
    expect(cmp(D, FLT, QNAN_D, D_(1))).toEqual([0n, NV]);
    expect(cmp(D, FLE, D_(1), QNAN_D)).toEqual([0n, NV]);
    expect(cmp(D, FEQ, D_(0), D_(-0))).toEqual([1n, 0]);
    expect(cmp(D, FLT, D_(-0), D_(0))).toEqual([0n, 0]);
    expect(cmp(D, FLE, D_(-0), D_(0))).toEqual([1n, 0]);
    expect(cmp(D, FLT, D_(-Infinity), D_(Infinity))).toEqual([1n, 0]);
    expect(cmp(D, FLT, D_(-2), D_(-1))).toEqual([1n, 0]);
    expect(cmp(D, FLT, D_(-1), D_(-2))).toEqual([0n, 0]);
    expect(cmp(D, FLE, D_(MIN_SUB_D), D_(0))).toEqual([0n, 0]);
    expect(cmp(S, FEQ, BigInt(SNAN_S), S_(1))).toEqual([0n, NV]);
    expect(cmp(S, FLE, S_(1.5), S_(1.5))).toEqual([1n, 0]);
  });
});

describe('fcvt to integer: saturation table (unprivileged spec, F "Domains of float-to-integer conversions")', () => {
  const W = 0;
  const WU = 1;
  const L = 2;
  const LU = 3;
  const toInt = (fmt: number, kind: number, bits: bigint, rm = RTZ): [bigint, number] => {
    const m = machine();
    if (fmt === D) setF64(m, 1, bits);
    else setF32(m, 1, Number(bits));
    expect(exec(m, opfp(FCVT_X_F, fmt, 5, 1, kind, rm))).toBe(true);
    return [getX(m, 5), flags(m)];
  };
  const I32_MAX = 2n ** 31n - 1n;
  const I32_MIN = -(2n ** 31n);
  const I64_MAX = 2n ** 63n - 1n;
  const I64_MIN = -(2n ** 63n);
  // As written to a 64-bit rd: W and WU results are sign-extended 32-bit values, so 2^32 - 1 reads -1.
  const U32_MAX = -1n;
  const U64_MAX = -1n;
  it('NaN and infinities', () => {
    for (const fmt of [S, D]) {
      const nan = fmt === D ? QNAN_D : BigInt(QNAN_S);
      const inf = fmt === D ? D_(Infinity) : S_(Infinity);
      const ninf = fmt === D ? D_(-Infinity) : S_(-Infinity);
      expect(toInt(fmt, W, nan)).toEqual([I32_MAX, NV]);
      expect(toInt(fmt, WU, nan)).toEqual([U32_MAX, NV]);
      expect(toInt(fmt, L, nan)).toEqual([I64_MAX, NV]);
      expect(toInt(fmt, LU, nan)).toEqual([U64_MAX, NV]);
      expect(toInt(fmt, W, inf)).toEqual([I32_MAX, NV]);
      expect(toInt(fmt, WU, inf)).toEqual([U32_MAX, NV]);
      expect(toInt(fmt, L, inf)).toEqual([I64_MAX, NV]);
      expect(toInt(fmt, LU, inf)).toEqual([U64_MAX, NV]);
      expect(toInt(fmt, W, ninf)).toEqual([I32_MIN, NV]);
      expect(toInt(fmt, WU, ninf)).toEqual([0n, NV]);
      expect(toInt(fmt, L, ninf)).toEqual([I64_MIN, NV]);
      expect(toInt(fmt, LU, ninf)).toEqual([0n, NV]);
    }
    // A negative NaN saturates like any NaN: to the maximum.
    expect(toInt(D, W, 0xfff8000000000000n)).toEqual([I32_MAX, NV]);
  });
  it('range edges: NV without NX when out of range after rounding, NX when inexact in range', () => {
    expect(toInt(D, W, D_(2 ** 31 - 1))).toEqual([I32_MAX, 0]);
    expect(toInt(D, W, D_(2 ** 31))).toEqual([I32_MAX, NV]);
    expect(toInt(D, W, D_(-(2 ** 31)))).toEqual([I32_MIN, 0]);
    // -2^31 - 0.5: RTZ → -2^31 (in range, inexact); RDN → -2^31 - 1 (out of range).
    expect(toInt(D, W, D_(-(2 ** 31) - 0.5), RTZ)).toEqual([I32_MIN, NX]);
    expect(toInt(D, W, D_(-(2 ** 31) - 0.5), RDN)).toEqual([I32_MIN, NV]);
    // 2^31 - 0.5 in RNE ties to even 2^31 → out of range; in RTZ → 2^31 - 1 inexact.
    expect(toInt(D, W, D_(2 ** 31 - 0.5), RNE)).toEqual([I32_MAX, NV]);
    expect(toInt(D, W, D_(2 ** 31 - 0.5), RTZ)).toEqual([I32_MAX, NX]);
    // Unsigned: -0.5 truncates to 0 (in range, NX); RDN makes it -1 (out of range → 0, NV).
    expect(toInt(D, WU, D_(-0.5), RTZ)).toEqual([0n, NX]);
    expect(toInt(D, WU, D_(-0.5), RDN)).toEqual([0n, NV]);
    expect(toInt(D, WU, D_(-1))).toEqual([0n, NV]);
    expect(toInt(D, WU, D_(2 ** 32 - 1))).toEqual([U32_MAX, 0]);
    expect(toInt(D, WU, D_(2 ** 31))).toEqual([-(2n ** 31n), 0]); // 0x80000000 sign-extended
    expect(toInt(D, WU, D_(2 ** 32))).toEqual([U32_MAX, NV]);
    expect(toInt(D, L, D_(2 ** 63))).toEqual([I64_MAX, NV]);
    expect(toInt(D, L, D_(-(2 ** 63)))).toEqual([I64_MIN, 0]);
    expect(toInt(D, L, D_(2 ** 62 + 2 ** 10))).toEqual([2n ** 62n + 1024n, 0]);
    expect(toInt(D, LU, D_(2 ** 64))).toEqual([U64_MAX, NV]);
    expect(toInt(D, LU, D_(2 ** 64 - 2048))).toEqual([-2048n, 0]); // 2^64 - 2^11 as a 64-bit pattern
    expect(toInt(D, LU, D_(MAX_D))).toEqual([U64_MAX, NV]);
    expect(toInt(S, W, S_(-(2 ** 31)))).toEqual([I32_MIN, 0]);
    expect(toInt(S, L, S_(2 ** 63))).toEqual([I64_MAX, NV]);
    expect(toInt(D, W, D_(-0))).toEqual([0n, 0]);
    expect(toInt(D, W, D_(MIN_SUB_D), RUP)).toEqual([1n, NX]);
  });
  it('rounding to integer in every mode', () => {
    const cases: [number, Record<number, bigint>][] = [
      [2.5, { [RNE]: 2n, [RTZ]: 2n, [RDN]: 2n, [RUP]: 3n, [RMM]: 3n }],
      [-2.5, { [RNE]: -2n, [RTZ]: -2n, [RDN]: -3n, [RUP]: -2n, [RMM]: -3n }],
      [1.5, { [RNE]: 2n, [RTZ]: 1n, [RDN]: 1n, [RUP]: 2n, [RMM]: 2n }],
      [-0.25, { [RNE]: 0n, [RTZ]: 0n, [RDN]: -1n, [RUP]: 0n, [RMM]: 0n }],
      [2.75, { [RNE]: 3n, [RTZ]: 2n, [RDN]: 2n, [RUP]: 3n, [RMM]: 3n }],
    ];
    for (const [v, want] of cases) {
      for (const rm of MODES) {
        expect(toInt(D, L, D_(v), rm), `${v} rm ${rm}`).toEqual([want[rm]!, NX]);
        expect(toInt(S, W, S_(v), rm), `${v} rm ${rm}`).toEqual([want[rm]!, NX]);
      }
    }
  });
});

describe('fmin / fmax: minimumNumber / maximumNumber', () => {
  const MIN = 0;
  const MAX = 1;
  it('signed zeros, NaNs and ordinary values', () => {
    expect(d2(FMINMAX, 0, -0, MIN)).toEqual({ bits: D_(-0), flags: 0 });
    expect(d2(FMINMAX, -0, 0, MIN)).toEqual({ bits: D_(-0), flags: 0 });
    expect(d2(FMINMAX, -0, 0, MAX)).toEqual({ bits: D_(0), flags: 0 });
    expect(d2(FMINMAX, 0, -0, MAX)).toEqual({ bits: D_(0), flags: 0 });
    expect(d2(FMINMAX, QNAN_D, D_(1), MIN)).toEqual({ bits: D_(1), flags: 0 });
    expect(d2(FMINMAX, D_(-1), 0xfff8000000000005n, MAX)).toEqual({ bits: D_(-1), flags: 0 });
    expect(d2(FMINMAX, SNAN_D, D_(1), MIN)).toEqual({ bits: D_(1), flags: NV });
    expect(d2(FMINMAX, D_(2), SNAN_D, MAX)).toEqual({ bits: D_(2), flags: NV });
    expect(d2(FMINMAX, SNAN_D, QNAN_D, MAX)).toEqual({ bits: QNAN_D, flags: NV });
    expect(d2(FMINMAX, 0x7ff8000000000009n, 0xfff8000000000000n, MIN)).toEqual({ bits: QNAN_D, flags: 0 });
    expect(d2(FMINMAX, -Infinity, 1, MIN).bits).toBe(D_(-Infinity));
    expect(d2(FMINMAX, -1, -2, MAX).bits).toBe(D_(-1));
    expect(d2(FMINMAX, -1, -2, MIN).bits).toBe(D_(-2));
    expect(d2(FMINMAX, MIN_SUB_D, 0, MIN).bits).toBe(D_(0));
    expect(s2(FMINMAX, 0, -0, MIN)).toEqual({ bits: 0x80000000n, flags: 0 });
    expect(s2(FMINMAX, SNAN_S, f32Bits(3), MAX, true)).toEqual({ bits: S_(3), flags: NV });
  });
  it('an unboxed single operand is a quiet NaN: the other operand wins, no NV', () => {
    const m = machine();
    m.st.f[2] = f32Bits(-7); // f1: not boxed
    setF32(m, 2, f32Bits(5));
    expect(exec(m, opfp(FMINMAX, S, 3, 1, 2, MIN))).toBe(true);
    expect([getF64(m, 3), flags(m)]).toEqual([0xffffffff00000000n | S_(5), 0]);
  });
});

describe('fclass: all ten classes', () => {
  const classify = (fmt: number, bits: bigint): bigint => {
    const m = machine();
    if (fmt === D) setF64(m, 1, bits);
    else setF32(m, 1, Number(bits));
    expect(exec(m, opfp(FMV_X_F, fmt, 5, 1, 0, 1))).toBe(true);
    return getX(m, 5);
  };
  it('binary64 and binary32', () => {
    const d: [bigint, number][] = [
      [D_(-Infinity), 0],
      [D_(-1.5), 1],
      [D_(-MIN_SUB_D), 2],
      [D_(-0), 3],
      [D_(0), 4],
      [D_(MIN_NORM_D - MIN_SUB_D), 5],
      [D_(MIN_NORM_D), 6],
      [D_(Infinity), 7],
      [SNAN_D, 8],
      [QNAN_D, 9],
      [0xfff0000000000001n, 8], // negative sNaN is still class 8
      [0xffffffffffffffffn, 9],
    ];
    for (const [bits, cls] of d) expect(classify(D, bits), bits.toString(16)).toBe(1n << BigInt(cls));
    const s: [bigint, number][] = [
      [S_(-Infinity), 0],
      [S_(-MAX_S), 1],
      [0x80000001n, 2],
      [0x80000000n, 3],
      [0n, 4],
      [0x007fffffn, 5],
      [0x00800000n, 6],
      [S_(Infinity), 7],
      [BigInt(SNAN_S), 8],
      [BigInt(QNAN_S), 9],
    ];
    for (const [bits, cls] of s) expect(classify(S, bits), bits.toString(16)).toBe(1n << BigInt(cls));
  });
});

describe('fused multiply-add rounds once', () => {
  it('binary64: (1 + 2^-27)(1 - 2^-27) - 1 = -2^-54 fused, 0 if the product were rounded first', () => {
    const a = D_(1 + 2 ** -27);
    const b = D_(1 - 2 ** -27);
    // The exact product 1 - 2^-54 would round (RNE, tie to even) to 1, and 1 - 1 = 0.
    expect((1 + 2 ** -27) * (1 - 2 ** -27) - 1).toBe(0);
    expect(fma(FMADD, D, a, b, D_(-1), RNE)).toEqual({ bits: D_(-(2 ** -54)), flags: 0 });
    expect(fma(FMSUB, D, a, b, D_(1), RNE)).toEqual({ bits: D_(-(2 ** -54)), flags: 0 });
    expect(fma(FNMSUB, D, a, b, D_(1), RNE)).toEqual({ bits: D_(2 ** -54), flags: 0 });
    expect(fma(FNMADD, D, a, b, D_(-1), RNE)).toEqual({ bits: D_(2 ** -54), flags: 0 });
  });
  it('binary64: a fused result rounds once where double rounding would differ', () => {
    // (1 + 2^-52)(1 + 2^-52) = 1 + 2^-51 + 2^-104; + 2^-53: exactly 1 + 2^-51 + 2^-53 + 2^-104,
    // which is above the midpoint between 1 + 2^-51 and 1 + 2^-51 + 2^-52 → 1 + 3·2^-52 (RNE).
    // Rounding the product first gives 1 + 2^-51, then + 2^-53 is a tie → even 1 + 2^-51.
    const x = D_(1 + 2 ** -52);
    expect(fma(FMADD, D, x, x, D_(2 ** -53), RNE)).toEqual({ bits: D_(1 + 3 * 2 ** -52), flags: NX });
    expect(fma(FMADD, D, x, x, D_(2 ** -53), RTZ)).toEqual({ bits: D_(1 + 2 ** -51), flags: NX });
  });
  it('binary64: exact result just below a tie that a second rounding would land on', () => {
    // a = 2^-53 (1 + 2^-27), b = 1 - 2^-27: a·b = 2^-53 - 2^-107 exactly.
    // c = 1 + 2^-52: a·b + c = 1 + 2^-52 + 2^-53 - 2^-107, just below the midpoint between
    // 1 + 2^-52 and 1 + 2^-51, so the correctly rounded result is 1 + 2^-52 (NX). Any scheme that
    // rounds part of the sum to 53 bits first (RN(a·b) = 2^-53) lands on the midpoint and then
    // ties to even, 1 + 2^-51.
    const a = D_(2 ** -53 * (1 + 2 ** -27));
    const b = D_(1 - 2 ** -27);
    expect(fma(FMADD, D, a, b, D_(1 + 2 ** -52), RNE)).toEqual({ bits: D_(1 + 2 ** -52), flags: NX });
    expect(fma(FNMADD, D, a, b, D_(1 + 2 ** -52), RNE)).toEqual({ bits: D_(-(1 + 2 ** -52)), flags: NX });
    expect(fma(FMADD, D, a, b, D_(1 + 2 ** -52), RUP)).toEqual({ bits: D_(1 + 2 ** -51), flags: NX });
  });
  it('binary32: exact result just below a tie that rounding through binary64 would land on', () => {
    // a = 2^-24 + 2^-44, b = 1 - 2^-20: a·b = 2^-24 - 2^-64. c = 1 + 2^-23:
    // a·b + c = 1 + 2^-23 + 2^-24 - 2^-64 lies below the binary32 midpoint 1 + 3·2^-24 → 1 + 2^-23.
    // Rounded to binary64 first it becomes exactly that midpoint, which ties to even 1 + 2^-22.
    expect(Math.fround((2 ** -24 + 2 ** -44) * (1 - 2 ** -20) + (1 + 2 ** -23))).toBe(1 + 2 ** -22);
    expect(fma(FMADD, S, S_(2 ** -24 + 2 ** -44), S_(1 - 2 ** -20), S_(1 + 2 ** -23), RNE)).toEqual({
      bits: S_(1 + 2 ** -23),
      flags: NX,
    });
  });
  it('binary32: (1 + 2^-13)(1 - 2^-13) - 1 = -2^-26', () => {
    expect(fma(FMADD, S, S_(1 + 2 ** -13), S_(1 - 2 ** -13), S_(-1), RNE)).toEqual({ bits: S_(-(2 ** -26)), flags: 0 });
  });
  it('plain cases and sign conventions of the four forms', () => {
    expect(fma(FMADD, D, D_(2), D_(3), D_(1), RNE).bits).toBe(D_(7));
    expect(fma(FMSUB, D, D_(2), D_(3), D_(1), RNE).bits).toBe(D_(5));
    expect(fma(FNMSUB, D, D_(2), D_(3), D_(1), RNE).bits).toBe(D_(-5));
    expect(fma(FNMADD, D, D_(2), D_(3), D_(1), RNE).bits).toBe(D_(-7));
    expect(fma(FMADD, S, S_(2), S_(3), S_(1), RNE).bits).toBe(S_(7));
  });
  it('∞·0 is invalid even with a quiet NaN addend; ∞ - ∞ is invalid', () => {
    expect(fma(FMADD, D, D_(Infinity), D_(0), QNAN_D, RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(fma(FMADD, D, D_(0), D_(-Infinity), D_(1), RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(fma(FMADD, D, D_(Infinity), D_(2), D_(-Infinity), RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(fma(FMSUB, D, D_(Infinity), D_(2), D_(Infinity), RNE)).toEqual({ bits: QNAN_D, flags: NV });
    expect(fma(FMADD, D, D_(1), D_(2), QNAN_D, RNE)).toEqual({ bits: QNAN_D, flags: 0 });
    expect(fma(FMADD, D, D_(MAX_D), D_(2), D_(-MAX_D), RNE)).toEqual({ bits: D_(MAX_D), flags: 0 });
  });
});

describe('illegal encodings write nothing', () => {
  function fresh(frm = 0): Machine {
    const m = machine(frm);
    for (let i = 0; i < 64; i++) {
      m.st.f[i] = (i * 0x9e3779b9) | 0;
      m.x[i] = i < 2 ? 0 : (i * 0x85ebca6b) | 0;
    }
    return m;
  }
  function expectIllegal(insn: number, frm = 0, label = ''): void {
    const m = fresh(frm);
    const f = m.st.f.slice();
    const x = m.x.slice();
    const fcsr = m.st.fcsr;
    expect(exec(m, insn), `${label} ${insn.toString(16)}`).toBe(false);
    expect(m.st.f).toEqual(f);
    expect(m.x).toEqual(x);
    expect(m.st.fcsr).toBe(fcsr);
  }
  it('reserved rounding modes, directly and through frm', () => {
    for (const rm of [5, 6]) {
      expectIllegal(opfp(FADD, D, 3, 1, 2, rm), 0, 'fadd rm');
      expectIllegal(opfp(FSQRT, S, 3, 1, 0, rm), 0, 'fsqrt rm');
      expectIllegal(r4(FMADD, D, 3, 1, 2, 4, rm), 0, 'fmadd rm');
      expectIllegal(opfp(FCVT_X_F, D, 3, 1, 0, rm), 0, 'fcvt.w.d rm');
      expectIllegal(opfp(FCVT_F_X, S, 3, 1, 2, rm), 0, 'fcvt.s.l rm');
      expectIllegal(opfp(FCVT_FF, S, 3, 1, 1, rm), 0, 'fcvt.s.d rm');
    }
    for (const frm of [5, 6, 7]) {
      expectIllegal(opfp(FMUL, S, 3, 1, 2, DYN), frm, 'fmul dyn');
      expectIllegal(r4(FNMSUB, S, 3, 1, 2, 4, DYN), frm, 'fnmsub dyn');
      expectIllegal(opfp(FCVT_FF, D, 3, 1, 0, DYN), frm, 'fcvt.d.s dyn');
    }
  });
  it('bad fmt, unknown funct5, fixed fields that are not as specified', () => {
    for (const fmt of [2, 3]) {
      expectIllegal(opfp(FADD, fmt, 3, 1, 2, RNE), 0, 'fmt');
      expectIllegal(r4(FMADD, fmt, 3, 1, 2, 4, RNE), 0, 'fmt r4');
    }
    for (const funct5 of [0x06, 0x07, 0x09, 0x0c, 0x10, 0x15, 0x19, 0x1b, 0x1d, 0x1f]) {
      expectIllegal(opfp(funct5, D, 3, 1, 2, RNE), 0, `funct5 ${funct5}`);
    }
    expectIllegal(opfp(FSQRT, D, 3, 1, 1, RNE), 0, 'fsqrt rs2');
    expectIllegal(opfp(FSGNJ, D, 3, 1, 2, 3), 0, 'fsgnj funct3');
    expectIllegal(opfp(FMINMAX, S, 3, 1, 2, 2), 0, 'fmin funct3');
    expectIllegal(opfp(FCMP, D, 3, 1, 2, 3), 0, 'fcmp funct3');
    expectIllegal(opfp(FCVT_FF, S, 3, 1, 0, RNE), 0, 'fcvt.s.s');
    expectIllegal(opfp(FCVT_FF, D, 3, 1, 1, RNE), 0, 'fcvt.d.d');
    expectIllegal(opfp(FCVT_FF, S, 3, 1, 2, RNE), 0, 'fcvt.s.h');
    expectIllegal(opfp(FCVT_X_F, D, 3, 1, 4, RNE), 0, 'fcvt.?.d rs2');
    expectIllegal(opfp(FCVT_F_X, D, 3, 1, 5, RNE), 0, 'fcvt.d.? rs2');
    expectIllegal(opfp(FMV_X_F, D, 3, 1, 0, 2), 0, 'fmv.x.d funct3');
    expectIllegal(opfp(FMV_X_F, D, 3, 1, 1, 0), 0, 'fmv.x.d rs2');
    expectIllegal(opfp(FMV_F_X, S, 3, 1, 0, 1), 0, 'fmv.w.x funct3');
    expectIllegal(opfp(FMV_F_X, S, 3, 1, 2, 0), 0, 'fmv.w.x rs2');
    expectIllegal((opfp(FADD, D, 3, 1, 2, RNE) & ~0x7f) | 0x33, 0, 'not an FP opcode');
  });
  it('x0 is never written, but flags still are', () => {
    const m = machine();
    setF64(m, 1, QNAN_D);
    expect(exec(m, opfp(FCVT_X_F, D, 0, 1, 2, RNE))).toBe(true); // fcvt.l.d x0 ← NaN: NV
    expect(exec(m, opfp(FMV_X_F, D, 0, 1, 0, 0))).toBe(true);
    expect(exec(m, opfp(FMV_X_F, D, 0, 1, 0, 1))).toBe(true);
    expect(exec(m, opfp(FCMP, D, 0, 1, 1, 2))).toBe(true);
    expect([m.x[0], m.x[1]]).toEqual([0, 0]);
    expect(flags(m)).toBe(NV);
  });
  it('the low bits of insn decide; the word may arrive signed or unsigned', () => {
    const m = machine();
    setF64(m, 1, D_(2));
    setF64(m, 2, D_(3));
    const insn = opfp(FMUL, D, 3, 1, 2, RNE); // funct5 = 2 → bit 31 clear; use fcvt.d.l for bit 31
    expect(exec(m, insn | 0)).toBe(true);
    expect(getF64(m, 3)).toBe(D_(6));
    setX(m, 5, -3n);
    expect(exec(m, opfp(FCVT_F_X, D, 4, 5, 2, RNE) | 0)).toBe(true); // bit 31 set: negative int32
    expect(getF64(m, 4)).toBe(D_(-3));
  });
});
