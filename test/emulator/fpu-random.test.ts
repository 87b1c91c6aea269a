/**
 * Randomized cross-checks of fpExecute: round-to-nearest-even results against the host's IEEE 754
 * arithmetic (JS doubles, Math.fround), every rounding mode and every fflags bit against the exact
 * rational reference in fpu-support.ts, and directed results against the RNE result ± 1 ulp.
 * Seeds are fixed so a failure reproduces.
 */

import { describe, expect, it } from 'vitest';
import {
  type BinOp,
  bitsF32,
  bitsF64,
  D,
  exec,
  F32,
  F64,
  f32Bits,
  f64Bits,
  FADD,
  FDIV,
  flags,
  FMADD,
  FMSUB,
  FMUL,
  FNMADD,
  FNMSUB,
  type Fmt,
  FSQRT,
  FSUB,
  getF64,
  machine,
  MODES,
  opfp,
  ordinal,
  r4,
  randomBits,
  refBinary,
  refFma,
  refSqrt,
  rng,
  RDN,
  RMM,
  RNE,
  RTZ,
  RUP,
  S,
  setF32,
  setF64,
  type RefResult,
} from './fpu-support.js';

const OPS: [BinOp, number][] = [
  ['add', FADD],
  ['sub', FSUB],
  ['mul', FMUL],
  ['div', FDIV],
];

function setOperand(m: ReturnType<typeof machine>, fmtCode: number, r: number, bits: bigint): void {
  if (fmtCode === D) setF64(m, r, bits);
  else setF32(m, r, Number(bits));
}

/** Runs a binary op in mode rm; returns the result bits (checking NaN-boxing for singles) and flags. */
function runBinary(fmtCode: number, funct5: number, a: bigint, b: bigint, rm: number): RefResult {
  const m = machine();
  setOperand(m, fmtCode, 1, a);
  setOperand(m, fmtCode, 2, b);
  expect(exec(m, opfp(funct5, fmtCode, 3, 1, 2, rm))).toBe(true);
  return readResult(m, fmtCode);
}

function readResult(m: ReturnType<typeof machine>, fmtCode: number): RefResult {
  const raw = getF64(m, 3);
  if (fmtCode === S) {
    expect(raw >> 32n).toBe(0xffffffffn); // NaN-boxed
    return { bits: raw & 0xffffffffn, flags: flags(m) };
  }
  return { bits: raw, flags: flags(m) };
}

function hex(b: bigint): string {
  return '0x' + b.toString(16);
}

function centerFor(op: BinOp, next: () => number): number {
  // Keep exponents close for add/sub often so cancellation and ties happen.
  return op === 'add' || op === 'sub' ? 0 : (next() % 3) - 1;
}

describe('RNE binary64 against JS arithmetic', () => {
  for (const [op, funct5] of OPS) {
    it(`f${op}.d matches the host result and the reference flags`, () => {
      const next = rng(0x1234 + funct5);
      for (let i = 0; i < 1500; i++) {
        const a = randomBits(next, F64, centerFor(op, next));
        const b = randomBits(next, F64, centerFor(op, next));
        const av = bitsF64(a);
        const bv = bitsF64(b);
        const host = op === 'add' ? av + bv : op === 'sub' ? av - bv : op === 'mul' ? av * bv : av / bv;
        const got = runBinary(D, funct5, a, b, RNE);
        const expectedBits = Number.isNaN(host) ? F64.canonicalNaN : f64Bits(host);
        const ctx = `${op} ${hex(a)} ${hex(b)}`;
        expect(hex(got.bits), ctx).toBe(hex(expectedBits));
        expect(got.flags, ctx).toBe(refBinary(F64, op, a, b, RNE).flags);
      }
    });
  }
  it('fsqrt.d matches Math.sqrt and the reference flags', () => {
    const next = rng(99);
    for (let i = 0; i < 2000; i++) {
      const a = randomBits(next, F64, 0);
      const host = Math.sqrt(bitsF64(a));
      const m = machine();
      setF64(m, 1, a);
      expect(exec(m, opfp(FSQRT, D, 3, 1, 0, RNE))).toBe(true);
      const ctx = `sqrt ${hex(a)}`;
      expect(hex(getF64(m, 3)), ctx).toBe(hex(Number.isNaN(host) ? F64.canonicalNaN : f64Bits(host)));
      expect(flags(m), ctx).toBe(refSqrt(F64, a, RNE).flags);
    }
  });
});

describe('RNE binary32 against Math.fround of the binary64 result', () => {
  for (const [op, funct5] of OPS) {
    it(`f${op}.s`, () => {
      const next = rng(0x777 + funct5);
      for (let i = 0; i < 1500; i++) {
        const a = randomBits(next, F32, centerFor(op, next));
        const b = randomBits(next, F32, centerFor(op, next));
        const av = bitsF32(Number(a));
        const bv = bitsF32(Number(b));
        // Double rounding through binary64 is innocuous for these ops (53 >= 2*24 + 2).
        const host = Math.fround(op === 'add' ? av + bv : op === 'sub' ? av - bv : op === 'mul' ? av * bv : av / bv);
        const got = runBinary(S, funct5, a, b, RNE);
        const ctx = `${op}.s ${hex(a)} ${hex(b)}`;
        expect(hex(got.bits), ctx).toBe(hex(Number.isNaN(host) ? F32.canonicalNaN : BigInt(f32Bits(host))));
        expect(got.flags, ctx).toBe(refBinary(F32, op, a, b, RNE).flags);
      }
    });
  }
  it('fsqrt.s', () => {
    const next = rng(4242);
    for (let i = 0; i < 2000; i++) {
      const a = randomBits(next, F32, 0);
      const host = Math.fround(Math.sqrt(bitsF32(Number(a))));
      const m = machine();
      setF32(m, 1, Number(a));
      expect(exec(m, opfp(FSQRT, S, 3, 1, 0, RNE))).toBe(true);
      const got = readResult(m, S);
      const ctx = `sqrt.s ${hex(a)}`;
      expect(hex(got.bits), ctx).toBe(hex(Number.isNaN(host) ? F32.canonicalNaN : BigInt(f32Bits(host))));
      expect(got.flags, ctx).toBe(refSqrt(F32, a, RNE).flags);
    }
  });
});

/** Directed results must bracket the exact value: RDN <= RNE <= RUP, at most one ulp apart. */
function checkBracket(fmt: Fmt, rne: bigint, results: Map<number, bigint>, ctx: string): void {
  const down = results.get(RDN)!;
  const up = results.get(RUP)!;
  if (fmt.fromBits(rne) !== fmt.fromBits(rne)) return; // NaN
  const dn = ordinal(fmt, down);
  const upo = ordinal(fmt, up);
  const ne = ordinal(fmt, rne);
  expect(dn <= ne && ne <= upo, ctx).toBe(true);
  expect(upo - dn <= 1n, ctx).toBe(true);
  // Toward-zero and ties-away results are one of the two bracketing values too.
  for (const rm of [RTZ, RMM]) {
    const o = ordinal(fmt, results.get(rm)!);
    expect(o === dn || o === upo, `${ctx} rm=${rm}`).toBe(true);
  }
}

describe('every rounding mode against the exact rational reference', () => {
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    for (const [op, funct5] of OPS) {
      it(`f${op}.${name} in RNE RTZ RDN RUP RMM`, () => {
        const next = rng(0xabc + funct5 * 7 + fmtCode);
        for (let i = 0; i < 300; i++) {
          const a = randomBits(next, fmt, centerFor(op, next));
          const b = randomBits(next, fmt, centerFor(op, next));
          const results = new Map<number, bigint>();
          for (const rm of MODES) {
            const got = runBinary(fmtCode, funct5, a, b, rm);
            const want = refBinary(fmt, op, a, b, rm);
            const ctx = `${op}.${name} rm=${rm} ${hex(a)} ${hex(b)}`;
            expect(hex(got.bits), ctx).toBe(hex(want.bits));
            expect(got.flags, ctx).toBe(want.flags);
            results.set(rm, got.bits);
          }
          // Overflow legitimately breaks the ±1 ulp bracket (inf vs max-finite); skip those.
          if ((refBinary(fmt, op, a, b, RNE).flags & 4) === 0) {
            checkBracket(fmt, results.get(RNE)!, results, `${op}.${name} ${hex(a)} ${hex(b)}`);
          }
        }
      });
    }
    it(`fsqrt.${name} in every mode`, () => {
      const next = rng(0x5151 + fmtCode);
      for (let i = 0; i < 300; i++) {
        const a = randomBits(next, fmt, 0);
        for (const rm of MODES) {
          const m = machine();
          setOperand(m, fmtCode, 1, a);
          expect(exec(m, opfp(FSQRT, fmtCode, 3, 1, 0, rm))).toBe(true);
          const got = readResult(m, fmtCode);
          const want = refSqrt(fmt, a, rm);
          const ctx = `sqrt.${name} rm=${rm} ${hex(a)}`;
          expect(hex(got.bits), ctx).toBe(hex(want.bits));
          expect(got.flags, ctx).toBe(want.flags);
        }
      }
    });
    it(`fused multiply-add family .${name} in every mode`, () => {
      const next = rng(0xfa + fmtCode);
      const forms: [number, boolean, boolean][] = [
        [FMADD, false, false],
        [FMSUB, false, true],
        [FNMSUB, true, false],
        [FNMADD, true, true],
      ];
      for (let i = 0; i < 400; i++) {
        const ea = (next() % 21) - 10;
        const a = randomBits(next, fmt, ea);
        const b = randomBits(next, fmt, -ea);
        // c near the product's magnitude so cancellation happens, sometimes anywhere.
        const c = randomBits(next, fmt, (next() % 5) - 2);
        const [opcode, negP, negC] = forms[next() % 4]!;
        for (const rm of MODES) {
          const m = machine();
          setOperand(m, fmtCode, 1, a);
          setOperand(m, fmtCode, 2, b);
          setOperand(m, fmtCode, 4, c);
          expect(exec(m, r4(opcode, fmtCode, 3, 1, 2, 4, rm))).toBe(true);
          const got = readResult(m, fmtCode);
          const want = refFma(fmt, a, b, c, rm, negP, negC);
          const ctx = `fma op=${opcode.toString(16)}.${name} rm=${rm} ${hex(a)} ${hex(b)} ${hex(c)}`;
          expect(hex(got.bits), ctx).toBe(hex(want.bits));
          expect(got.flags, ctx).toBe(want.flags);
        }
      }
    });
  }
});

/** A finite value with a random significand and the given biased exponent field. */
function withExponent(next: () => number, fmt: Fmt, expField: number, sign: number): bigint {
  let frac = 0n;
  for (let i = 0; i < fmt.fracBits; i += 16) frac = (frac << 16n) | BigInt(next() & 0xffff);
  frac &= (1n << BigInt(fmt.fracBits)) - 1n;
  if (next() % 3 === 0) frac |= (1n << BigInt(next() % fmt.fracBits)) - 1n; // runs of ones: ties
  return (BigInt(sign) << BigInt(fmt.width - 1)) | (BigInt(expField) << BigInt(fmt.fracBits)) | frac;
}

describe('results next to the underflow threshold 2^emin, every mode', () => {
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    const bias = fmt.emax;
    for (const [op, funct5] of OPS.filter(([o]) => o === 'mul' || o === 'div')) {
      it(`f${op}.${name}`, () => {
        const next = rng(0x7e57 + funct5 + fmtCode);
        let underflows = 0;
        for (let i = 0; i < 250; i++) {
          // a near the smallest normal, b in [0.5, 2): the result straddles 2^emin.
          const a = withExponent(next, fmt, 1 + (next() % 2), next() & 1);
          const b = withExponent(next, fmt, bias - 1 + (next() % 2), next() & 1);
          for (const rm of MODES) {
            const got = runBinary(fmtCode, funct5, op === 'mul' ? b : a, op === 'mul' ? a : b, rm);
            const want = refBinary(fmt, op, op === 'mul' ? b : a, op === 'mul' ? a : b, rm);
            const ctx = `${op}.${name} rm=${rm} ${hex(a)} ${hex(b)}`;
            expect(hex(got.bits), ctx).toBe(hex(want.bits));
            expect(got.flags, ctx).toBe(want.flags);
            if (want.flags & 2) underflows++;
          }
        }
        expect(underflows).toBeGreaterThan(50); // the generator really reaches the threshold
      });
    }
  }
});

describe('RNE fused multiply-add (the rounding-to-odd fast path) against the rational reference', () => {
  for (const [fmtCode, fmt, name] of [
    [D, F64, 'd'],
    [S, F32, 's'],
  ] as const) {
    it(`fmadd.${name} with heavy cancellation and near-ties`, () => {
      const next = rng(0xf00d + fmtCode);
      let inexact = 0;
      for (let i = 0; i < 1500; i++) {
        const ea = (next() % 41) - 20;
        const a = randomBits(next, fmt, ea);
        const b = randomBits(next, fmt, -ea + ((next() % 5) - 2));
        const av = fmt.fromBits(a);
        const bv = fmt.fromBits(b);
        let c: bigint;
        const style = next() % 4;
        if (style === 3) {
          // Near-ties after a partial rounding: a·b ≈ half an ulp of c, with the product's low
          // bits beyond working precision (a = m·2^-(p), b ≈ 1/m nudged by a few ulps).
          const p = fmt.fracBits + 1;
          const m = 1 + (next() % 2 ** 20) / 2 ** 20 + (fmt === F64 ? (next() % 2 ** 26) / 2 ** 46 : 0);
          const mm = fmt === F32 ? Math.fround(m) : m;
          const inv = fmt === F32 ? Math.fround(1 / mm) : 1 / mm;
          const aa = fmt.toBits(mm * 2 ** -p);
          const bb = fmt.toBits(inv) + BigInt((next() % 7) - 3);
          const cc = fmt.toBits(1 + (next() % 16) * 2 ** -fmt.fracBits);
          const mach = machine();
          setOperand(mach, fmtCode, 1, aa);
          setOperand(mach, fmtCode, 2, bb);
          setOperand(mach, fmtCode, 4, cc);
          expect(exec(mach, r4(FMADD, fmtCode, 3, 1, 2, 4, RNE))).toBe(true);
          const gotT = readResult(mach, fmtCode);
          const wantT = refFma(fmt, aa, bb, cc, RNE, false, false);
          const ctxT = `fmadd.${name} near-tie ${hex(aa)} ${hex(bb)} ${hex(cc)}`;
          expect(hex(gotT.bits), ctxT).toBe(hex(wantT.bits));
          expect(gotT.flags, ctxT).toBe(wantT.flags);
          c = cc;
        } else if (style === 0 && Number.isFinite(av * bv)) {
          // c = -RN(a·b) nudged by a few ulps: the result is the product's rounding error or so.
          const rounded = fmt.toBits(-(fmt === F32 ? Math.fround(av * bv) : av * bv));
          c = rounded + BigInt((next() % 7) - 3);
          if (c < 0n) c = rounded;
        } else if (style === 1) {
          // c a half-ulp-ish partner of the product: ties after the product's low bits.
          c = randomBits(next, fmt, ea - ea - fmt.fracBits - 1 + ((next() % 5) - 2));
        } else {
          c = randomBits(next, fmt, (next() % 9) - 4);
        }
        const m = machine();
        setOperand(m, fmtCode, 1, a);
        setOperand(m, fmtCode, 2, b);
        setOperand(m, fmtCode, 4, c);
        expect(exec(m, r4(FMADD, fmtCode, 3, 1, 2, 4, RNE))).toBe(true);
        const got = readResult(m, fmtCode);
        const want = refFma(fmt, a, b, c, RNE, false, false);
        const ctx = `fmadd.${name} ${hex(a)} ${hex(b)} ${hex(c)}`;
        expect(hex(got.bits), ctx).toBe(hex(want.bits));
        expect(got.flags, ctx).toBe(want.flags);
        if (want.flags === 1) inexact++;
      }
      expect(inexact).toBeGreaterThan(500);
    });
  }
});
