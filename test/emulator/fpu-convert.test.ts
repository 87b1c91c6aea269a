/**
 * Randomized conversions, comparisons and min/max against references written here from the spec:
 * float → integer (rounding by exact rational floor, then the saturation table of F §"Single-
 * Precision Floating-Point Conversion and Move Instructions"), integer → float and binary64 →
 * binary32 (rounded by fpu-support's rational roundQ), feq/flt/fle and fmin/fmax (host comparison
 * plus the NaN rules).
 */

import { describe, expect, it } from 'vitest';
import {
  bitsF32,
  bitsF64,
  D,
  exactQ,
  exec,
  F32,
  F64,
  f32Bits,
  FCMP,
  FCVT_F_X,
  FCVT_FF,
  FCVT_X_F,
  flags,
  FMINMAX,
  type Fmt,
  getF64,
  getX,
  isSNaN,
  machine,
  MODES,
  NV,
  NX,
  opfp,
  type Q,
  randomBits,
  RDN,
  RMM,
  RNE,
  roundQ,
  RTZ,
  rng,
  S,
  setF32,
  setF64,
  setX,
} from './fpu-support.js';

/** Round a rational to an integer per mode: floor division, then the half comparison. */
function roundToInteger(x: Q, rm: number): { value: bigint; inexact: boolean } {
  let fl = x.n / x.d;
  if (x.n < 0n && fl * x.d !== x.n) fl -= 1n; // BigInt division truncates; make it floor
  const rem = { n: x.n - fl * x.d, d: x.d }; // 0 <= rem < 1
  const inexact = rem.n !== 0n;
  const twice = 2n * rem.n;
  let up: boolean;
  if (rm === RNE) up = twice > x.d || (twice === x.d && (fl & 1n) !== 0n);
  else if (rm === RMM) up = twice > x.d || (twice === x.d && x.n > 0n);
  else if (rm === RTZ) up = inexact && x.n < 0n;
  else if (rm === RDN) up = false;
  else up = inexact;
  return { value: up ? fl + 1n : fl, inexact };
}

const KINDS = [
  { name: 'w', rs2: 0, min: -(2n ** 31n), max: 2n ** 31n - 1n, width: 32 },
  { name: 'wu', rs2: 1, min: 0n, max: 2n ** 32n - 1n, width: 32 },
  { name: 'l', rs2: 2, min: -(2n ** 63n), max: 2n ** 63n - 1n, width: 64 },
  { name: 'lu', rs2: 3, min: 0n, max: 2n ** 64n - 1n, width: 64 },
] as const;

function refToInt(fmt: Fmt, bits: bigint, rm: number, kind: (typeof KINDS)[number]): [bigint, number] {
  const v = fmt.fromBits(bits);
  const asRd = (n: bigint): bigint => BigInt.asIntN(64, BigInt.asIntN(kind.width, n));
  if (Number.isNaN(v)) return [asRd(kind.max), NV];
  if (v === Infinity) return [asRd(kind.max), NV];
  if (v === -Infinity) return [asRd(kind.min), NV];
  const r = roundToInteger(exactQ(v), rm);
  if (r.value > kind.max) return [asRd(kind.max), NV];
  if (r.value < kind.min) return [asRd(kind.min), NV];
  return [asRd(r.value), r.inexact ? NX : 0];
}

/** Values around the conversion boundaries with fractions that exercise every rounding case. */
function interestingFloat(next: () => number, fmt: Fmt): bigint {
  const pick = next() % 4;
  if (pick === 0) return randomBits(next, fmt, 0);
  const edges = [0, 1, 31, 32, 52, 53, 63, 64, 24, 23];
  const e = edges[next() % edges.length]!;
  const base = 2 ** e;
  const offsets = [0, 0.5, -0.5, 1, -1, 0.25, -0.75, 1.5, -1.5, 2.5];
  let v = (next() & 1 ? -1 : 1) * (base + offsets[next() % offsets.length]!);
  if (pick === 3) v = (next() & 1 ? -1 : 1) * ((next() % 1000) / 4); // small quarter-steps
  const rounded = fmt === F32 ? Math.fround(v) : v;
  return fmt.toBits(rounded);
}

describe('fcvt float → integer, every mode and kind, against the rational reference', () => {
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    it(`fcvt.{w,wu,l,lu}.${name}`, () => {
      const next = rng(0xc0 + fmtCode);
      for (let i = 0; i < 250; i++) {
        const bits = interestingFloat(next, fmt);
        for (const kind of KINDS) {
          for (const rm of MODES) {
            const m = machine();
            if (fmtCode === D) setF64(m, 1, bits);
            else setF32(m, 1, Number(bits));
            expect(exec(m, opfp(FCVT_X_F, fmtCode, 5, 1, kind.rs2, rm))).toBe(true);
            const ctx = `fcvt.${kind.name}.${name} rm=${rm} 0x${bits.toString(16)}`;
            expect([getX(m, 5), flags(m)], ctx).toEqual(refToInt(fmt, bits, rm, kind));
          }
        }
      }
    });
  }
});

describe('fcvt integer → float, every mode and kind, against the rational reference', () => {
  function interestingInt(next: () => number): bigint {
    const bits = next() % 65;
    let v = 0n;
    for (let i = 0; i < 4; i++) v = (v << 16n) | BigInt(next() & 0xffff);
    v &= (1n << BigInt(bits)) - 1n;
    if (next() % 3 === 0) v |= (1n << BigInt(Math.max(0, bits - 26 - (next() % 4)))) - 1n; // ties
    return next() & 1 ? -v : v;
  }
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    it(`fcvt.${name}.{w,wu,l,lu}`, () => {
      const next = rng(0x1f + fmtCode);
      for (let i = 0; i < 250; i++) {
        const raw = BigInt.asIntN(64, interestingInt(next)); // as held in the 64-bit register
        for (const kind of KINDS) {
          // The integer each form reads from the register.
          const value =
            kind.rs2 === 0
              ? BigInt.asIntN(32, raw)
              : kind.rs2 === 1
                ? BigInt.asUintN(32, raw)
                : kind.rs2 === 2
                  ? raw
                  : BigInt.asUintN(64, raw);
          for (const rm of MODES) {
            const m = machine();
            setX(m, 1, raw);
            expect(exec(m, opfp(FCVT_F_X, fmtCode, 2, 1, kind.rs2, rm))).toBe(true);
            const got = getF64(m, 2);
            const want = value === 0n ? { bits: 0n, flags: 0 } : roundQ(fmt, { n: value, d: 1n }, rm);
            const ctx = `fcvt.${name}.${kind.name} rm=${rm} ${raw}`;
            if (fmtCode === S) expect(got >> 32n, ctx).toBe(0xffffffffn);
            expect([fmtCode === S ? got & 0xffffffffn : got, flags(m)], ctx).toEqual([want.bits, want.flags]);
          }
        }
      }
    });
  }
});

describe('fcvt.s.d and fcvt.d.s', () => {
  it('fcvt.s.d in every mode, across the binary32 range, against the rational reference', () => {
    const next = rng(0x5d);
    for (let i = 0; i < 600; i++) {
      // Exponents spread over and beyond the binary32 range, subnormals included.
      const e = (next() % 330) - 165;
      const frac = ((next() * 2 ** 21 + (next() & 0x1fffff)) % 2 ** 52) / 2 ** 52;
      let v = (1 + frac) * 2 ** e;
      // Ties: a binary32 value plus or minus half its ulp (when v is within binary32 range).
      if (next() % 4 === 0 && Number.isFinite(Math.fround(v))) v = Math.fround(v) + (next() & 1 ? 1 : -1) * 2 ** (e - 24);
      if (next() & 1) v = -v;
      const bits = F64.toBits(v);
      for (const rm of MODES) {
        const m = machine();
        setF64(m, 1, bits);
        expect(exec(m, opfp(FCVT_FF, S, 2, 1, 1, rm))).toBe(true);
        const want = v === 0 ? { bits: F32.toBits(v), flags: 0 } : roundQ(F32, exactQ(v), rm);
        const got = getF64(m, 2);
        const ctx = `fcvt.s.d rm=${rm} ${v}`;
        expect(got >> 32n, ctx).toBe(0xffffffffn);
        expect([got & 0xffffffffn, flags(m)], ctx).toEqual([want.bits, want.flags]);
      }
    }
  });
  it('fcvt.d.s is exact for every non-NaN single', () => {
    const next = rng(0xd5);
    for (let i = 0; i < 1000; i++) {
      const bits = Number(randomBits(next, F32, 0));
      const v = bitsF32(bits);
      const m = machine();
      setF32(m, 1, bits);
      expect(exec(m, opfp(FCVT_FF, D, 2, 1, 0, MODES[i % 5]!))).toBe(true);
      if (Number.isNaN(v)) {
        expect([getF64(m, 2), flags(m)]).toEqual([F64.canonicalNaN, isSNaN(F32, BigInt(bits)) ? NV : 0]);
      } else {
        expect([getF64(m, 2), flags(m)]).toEqual([F64.toBits(v), 0]);
      }
    }
  });
});

describe('comparisons and min/max against host comparison plus the NaN rules', () => {
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    it(`feq/flt/fle/fmin/fmax.${name}`, () => {
      const next = rng(0xcafe + fmtCode);
      for (let i = 0; i < 600; i++) {
        const a = randomBits(next, fmt, 0);
        // Often compare a value with itself, its negation or a neighbour.
        const pick = next() % 4;
        const b = pick === 0 ? a : pick === 1 ? a ^ (1n << BigInt(fmt.width - 1)) : pick === 2 ? a + 1n : randomBits(next, fmt, 0);
        const bMasked = b & ((1n << BigInt(fmt.width)) - 1n);
        const av = fmt.fromBits(a);
        const bv = fmt.fromBits(bMasked);
        const anyNaN = Number.isNaN(av) || Number.isNaN(bv);
        const anySNaN = isSNaN(fmt, a) || isSNaN(fmt, bMasked);
        const load = (m: ReturnType<typeof machine>): void => {
          if (fmtCode === D) {
            setF64(m, 1, a);
            setF64(m, 2, bMasked);
          } else {
            setF32(m, 1, Number(a));
            setF32(m, 2, Number(bMasked));
          }
        };
        const ctx = `${name} 0x${a.toString(16)} 0x${bMasked.toString(16)}`;
        for (const [funct3, want, nv] of [
          [2, av === bv, anySNaN],
          [1, av < bv, anyNaN],
          [0, av <= bv, anyNaN],
        ] as const) {
          const m = machine();
          load(m);
          expect(exec(m, opfp(FCMP, fmtCode, 5, 1, 2, funct3))).toBe(true);
          expect([getX(m, 5), flags(m)], `${ctx} cmp ${funct3}`).toEqual([want ? 1n : 0n, nv ? NV : 0]);
        }
        for (const isMax of [false, true]) {
          let want: bigint;
          if (Number.isNaN(av) && Number.isNaN(bv)) want = fmt.canonicalNaN;
          else if (Number.isNaN(av)) want = bMasked;
          else if (Number.isNaN(bv)) want = a;
          else if (av === bv) want = (av === 0 ? Object.is(av, -0) === !isMax : true) ? a : bMasked;
          else want = (av < bv) !== isMax ? a : bMasked;
          const m = machine();
          load(m);
          expect(exec(m, opfp(FMINMAX, fmtCode, 3, 1, 2, isMax ? 1 : 0))).toBe(true);
          const got = getF64(m, 3);
          expect([fmtCode === S ? got & 0xffffffffn : got, flags(m)], `${ctx} max=${isMax}`).toEqual([
            want,
            anySNaN ? NV : 0,
          ]);
        }
      }
    });
  }
});

// Keep bitsF64/f32Bits referenced for readers comparing with fpu-cases.
void bitsF64;
void f32Bits;
