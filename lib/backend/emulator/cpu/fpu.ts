/**
 * The F and D extensions (RISC-V unprivileged spec, chapters "F" and "D", RV64): one entry point the
 * emulated hart calls for major opcodes 0x43 FMADD, 0x47 FMSUB, 0x4B FNMSUB, 0x4F FNMADD and
 * 0x53 OP-FP. Loads/stores (FLW/FLD/FSW/FSD), the fcsr CSRs and mstatus.FS stay with the hart.
 *
 * Register layout (contract.ts): x and f are Int32Array(64), [2n] = low word, [2n+1] = high word.
 * Single-precision values live NaN-boxed in f (F §"NaN Boxing of Narrower Values"): reads of a
 * single operand that is not boxed see the canonical NaN, writes box.
 *
 * Arithmetic is exact and correctly rounded in every mode (fp/arith.ts, fp/convert.ts: bigint
 * significands, one rounding in fp/round.ts). The common cases take JavaScript-double fast paths
 * that prove their own exception flags or step aside: round-to-nearest-even + - × ÷ √ and
 * conversions (fp/fast.ts), RNE fused multiply-add by rounding to odd (fp/fastfma.ts), and the
 * operations that never round (fp/misc.ts).
 */

import { fpAdd, fpDiv, fpFma, fpMul, fpSqrt } from './fp/arith.js';
import { fpConvert, fpToInt, intToFp } from './fp/convert.js';
import {
  DECLINED,
  fastBinaryD,
  fastBinaryS,
  fastConvertFormat,
  fastFromInt,
  fastSqrtD,
  fastSqrtS,
  fastToInt,
} from './fp/fast.js';
import { FLOAT32, FLOAT64, type FpFormat, type FpResult, RM_DYN, RM_RNE, type RoundingMode } from './fp/format.js';
import { fastFmaD, fastFmaS } from './fp/fastfma.js';
import { fpClassify, fpCompare, fpMinMax, fpSignInject } from './fp/misc.js';

/** The state the FPU reads and writes: the f registers and fcsr (fflags in bits 0..4, frm 5..7). */
export interface FpState {
  f: Int32Array;
  fcsr: number;
}

const OPC_FMADD = 0x43;
const OPC_FMSUB = 0x47;
const OPC_FNMSUB = 0x4b;
const OPC_FNMADD = 0x4f;
const OPC_OP_FP = 0x53;

// OP-FP funct5 values (unprivileged spec, "RV32/64G Instruction Set Listings").
const F5_ADD = 0x00;
const F5_SUB = 0x01;
const F5_MUL = 0x02;
const F5_DIV = 0x03;
const F5_SGNJ = 0x04;
const F5_MINMAX = 0x05;
const F5_CVT_FF = 0x08;
const F5_SQRT = 0x0b;
const F5_CMP = 0x14;
const F5_CVT_INT_FROM_FP = 0x18;
const F5_CVT_FP_FROM_INT = 0x1a;
const F5_MV_X_FCLASS = 0x1c;
const F5_MV_FP_FROM_X = 0x1e;

function readBits64(f: Int32Array, r: number): bigint {
  return (BigInt(f[2 * r + 1]! >>> 0) << 32n) | BigInt(f[2 * r]! >>> 0);
}

function readOperand(fmt: FpFormat, f: Int32Array, r: number): bigint {
  if (fmt === FLOAT64) return readBits64(f, r);
  // Not NaN-boxed → canonical NaN (F §"NaN Boxing of Narrower Values").
  return f[2 * r + 1] === -1 ? BigInt(f[2 * r]! >>> 0) : FLOAT32.canonicalNaN;
}

function writeResult(fmt: FpFormat, f: Int32Array, r: number, bits: bigint): void {
  f[2 * r] = Number(BigInt.asIntN(32, bits));
  f[2 * r + 1] = fmt === FLOAT64 ? Number(BigInt.asIntN(32, bits >> 32n)) : -1;
}

function writeX(x: Int32Array, rd: number, value: bigint): void {
  if (rd === 0) return;
  x[2 * rd] = Number(BigInt.asIntN(32, value));
  x[2 * rd + 1] = Number(BigInt.asIntN(32, value >> 32n));
}

/** The rounding mode for an instruction's rm field, or -1 if it is reserved (F §"Rounding Modes"). */
function effectiveRm(rmField: number, fcsr: number): RoundingMode | -1 {
  const rm = rmField === RM_DYN ? (fcsr >>> 5) & 7 : rmField;
  return rm <= 4 ? (rm as RoundingMode) : -1;
}

/** Executes one F/D instruction; false means the encoding is illegal (the hart raises an
 * illegal-instruction exception) and nothing was written. */
export function fpExecute(insn: number, x: Int32Array, st: FpState): boolean {
  const opcode = insn & 0x7f;
  const rd = (insn >>> 7) & 31;
  const rmField = (insn >>> 12) & 7;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const fmtField = (insn >>> 25) & 3;
  if (fmtField > 1) return false; // H and Q are not implemented
  const fmt = fmtField === 0 ? FLOAT32 : FLOAT64;
  const f = st.f;

  if (opcode === OPC_FMADD || opcode === OPC_FMSUB || opcode === OPC_FNMSUB || opcode === OPC_FNMADD) {
    const rm = effectiveRm(rmField, st.fcsr);
    if (rm < 0) return false;
    const rs3 = insn >>> 27;
    // FMADD: a·b+c, FMSUB: a·b-c, FNMSUB: -(a·b)+c, FNMADD: -(a·b)-c.
    const negateProduct = opcode === OPC_FNMSUB || opcode === OPC_FNMADD;
    const negateAddend = opcode === OPC_FMSUB || opcode === OPC_FNMADD;
    if (rm === RM_RNE) {
      const flags =
        fmt === FLOAT64
          ? fastFmaD(f, rd, rs1, rs2, rs3, negateProduct, negateAddend)
          : fastFmaS(f, rd, rs1, rs2, rs3, negateProduct, negateAddend);
      if (flags !== DECLINED) {
        st.fcsr |= flags;
        return true;
      }
    }
    const r = fpFma(
      fmt,
      readOperand(fmt, f, rs1),
      readOperand(fmt, f, rs2),
      readOperand(fmt, f, rs3),
      rm as RoundingMode,
      negateProduct,
      negateAddend,
    );
    writeResult(fmt, f, rd, r.bits);
    st.fcsr |= r.flags;
    return true;
  }
  if (opcode !== OPC_OP_FP) return false;

  const funct5 = insn >>> 27;
  switch (funct5) {
    case F5_ADD:
    case F5_SUB:
    case F5_MUL:
    case F5_DIV: {
      const rm = effectiveRm(rmField, st.fcsr);
      if (rm < 0) return false;
      if (rm === RM_RNE) {
        const flags = fmt === FLOAT64 ? fastBinaryD(funct5, f, rd, rs1, rs2) : fastBinaryS(funct5, f, rd, rs1, rs2);
        if (flags !== DECLINED) {
          st.fcsr |= flags;
          return true;
        }
      }
      const a = readOperand(fmt, f, rs1);
      const b = readOperand(fmt, f, rs2);
      let r: FpResult;
      if (funct5 === F5_ADD) r = fpAdd(fmt, a, b, rm as RoundingMode);
      else if (funct5 === F5_SUB) r = fpAdd(fmt, a, b, rm as RoundingMode, true);
      else if (funct5 === F5_MUL) r = fpMul(fmt, a, b, rm as RoundingMode);
      else r = fpDiv(fmt, a, b, rm as RoundingMode);
      writeResult(fmt, f, rd, r.bits);
      st.fcsr |= r.flags;
      return true;
    }
    case F5_SQRT: {
      if (rs2 !== 0) return false;
      const rm = effectiveRm(rmField, st.fcsr);
      if (rm < 0) return false;
      if (rm === RM_RNE) {
        const flags = fmt === FLOAT64 ? fastSqrtD(f, rd, rs1) : fastSqrtS(f, rd, rs1);
        if (flags !== DECLINED) {
          st.fcsr |= flags;
          return true;
        }
      }
      const r = fpSqrt(fmt, readOperand(fmt, f, rs1), rm as RoundingMode);
      writeResult(fmt, f, rd, r.bits);
      st.fcsr |= r.flags;
      return true;
    }
    case F5_SGNJ: {
      if (rmField > 2) return false;
      fpSignInject(fmt === FLOAT64, f, rd, rs1, rs2, rmField);
      return true;
    }
    case F5_MINMAX: {
      if (rmField > 1) return false;
      st.fcsr |= fpMinMax(fmt === FLOAT64, f, rd, rs1, rs2, rmField === 1);
      return true;
    }
    case F5_CVT_FF: {
      // fcvt.s.d is fmt=S, rs2=1 (D); fcvt.d.s is fmt=D, rs2=0 (S).
      const from = fmt === FLOAT32 ? FLOAT64 : FLOAT32;
      if (rs2 !== (from === FLOAT64 ? 1 : 0)) return false;
      const rm = effectiveRm(rmField, st.fcsr);
      if (rm < 0) return false;
      const fast = fastConvertFormat(fmt === FLOAT64, f, rd, rs1, rm);
      if (fast !== DECLINED) {
        st.fcsr |= fast;
        return true;
      }
      const r = fpConvert(from, fmt, readOperand(from, f, rs1), rm as RoundingMode);
      writeResult(fmt, f, rd, r.bits);
      st.fcsr |= r.flags;
      return true;
    }
    case F5_CMP: {
      if (rmField > 2) return false;
      const op = rmField === 2 ? 'eq' : rmField === 1 ? 'lt' : 'le';
      const r = fpCompare(fmt === FLOAT64, f, rs1, rs2, op);
      if (rd !== 0) {
        x[2 * rd] = r.value ? 1 : 0;
        x[2 * rd + 1] = 0;
      }
      st.fcsr |= r.flags;
      return true;
    }
    case F5_CVT_INT_FROM_FP: {
      if (rs2 > 3) return false;
      const rm = effectiveRm(rmField, st.fcsr);
      if (rm < 0) return false;
      // rs2: 0 = W, 1 = WU, 2 = L, 3 = LU.
      const fast = fastToInt(fmt === FLOAT64, f, rs1, rm, rs2, x, rd);
      if (fast !== DECLINED) {
        st.fcsr |= fast;
        return true;
      }
      const r = fpToInt(fmt, readOperand(fmt, f, rs1), rm as RoundingMode, rs2 < 2 ? 32 : 64, (rs2 & 1) === 0);
      writeX(x, rd, r.value);
      st.fcsr |= r.flags;
      return true;
    }
    case F5_CVT_FP_FROM_INT: {
      if (rs2 > 3) return false;
      const rm = effectiveRm(rmField, st.fcsr);
      if (rm < 0) return false;
      const fast = fastFromInt(fmt === FLOAT64, x, rs1, rs2, rm, f, rd);
      if (fast !== DECLINED) {
        st.fcsr |= fast;
        return true;
      }
      const lo = x[2 * rs1]!;
      const hi = x[2 * rs1 + 1]!;
      let value: bigint;
      if (rs2 === 0) value = BigInt(lo);
      else if (rs2 === 1) value = BigInt(lo >>> 0);
      else {
        const raw = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
        value = rs2 === 2 ? BigInt.asIntN(64, raw) : raw;
      }
      const r = intToFp(fmt, value, rm as RoundingMode);
      writeResult(fmt, f, rd, r.bits);
      st.fcsr |= r.flags;
      return true;
    }
    case F5_MV_X_FCLASS: {
      if (rs2 !== 0) return false;
      if (rmField === 0) {
        // fmv.x.w moves the raw low word (no NaN-box check) sign-extended; fmv.x.d moves all 64 bits.
        if (rd !== 0) {
          x[2 * rd] = f[2 * rs1]!;
          x[2 * rd + 1] = fmt === FLOAT64 ? f[2 * rs1 + 1]! : f[2 * rs1]! >> 31;
        }
        return true;
      }
      if (rmField === 1) {
        if (rd !== 0) {
          x[2 * rd] = fpClassify(fmt === FLOAT64, f, rs1);
          x[2 * rd + 1] = 0;
        }
        return true;
      }
      return false;
    }
    case F5_MV_FP_FROM_X: {
      if (rs2 !== 0 || rmField !== 0) return false;
      f[2 * rd] = x[2 * rs1]!;
      f[2 * rd + 1] = fmt === FLOAT64 ? x[2 * rs1 + 1]! : -1;
      return true;
    }
    default:
      return false;
  }
}
