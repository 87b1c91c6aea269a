/**
 * Instruction decoder for RV64IMAC + Zicsr + Zifencei + the F/D loads, stores and OP-FP group
 * (RISC-V unprivileged spec, chapters "RV32I", "RV64I", "M", "A", "C", "Zicsr", "Zifencei"; the
 * privileged spec §3.3 / §4.2 for the SYSTEM instructions a supervisor may use).
 *
 * The hart pre-decodes each 4 KiB code page into two Int32Arrays (one slot per halfword): a packed
 * word and an immediate. Compressed instructions are expanded to their 32-bit equivalents first
 * (C extension, Table "RVC instruction set listings"), so the interpreter only knows one set of ops.
 *
 * Packed word: op (bits 7:0) | rd*2 (14:8) | rs1*2 (21:15) | rs2*2 (28:22) | compressed (29).
 * Register fields are pre-doubled: they index the lo/hi Int32Array register file directly.
 * An instruction whose only effect is writing x0 decodes to NOP; one with other effects (jumps,
 * loads, CSRs, AMOs) gets rd = 32, a scratch slot past x31 that nothing reads.
 */

export const enum Op {
  UNDECODED = 0,
  ILLEGAL, NOP, CROSS_PAGE, EXIT_PAGE,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LD, LBU, LHU, LWU,
  SB, SH, SW, SD,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  MULW, DIVW, DIVUW, REMW, REMUW,
  FENCE, FENCE_I, ECALL, EBREAK, SRET, WFI, SFENCE_VMA,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  /** LR/SC/AMO: imm holds (funct5 << 1) | (1 for .d). */
  AMO,
  FLW, FLD, FSW, FSD,
  /** OP-FP and fused multiply-add: imm holds the raw instruction for fpExecute. */
  FPOP,
}

/** Scratch destination for instructions that write x0 but have other effects. */
export const RD_SINK = 32;
export const COMPRESSED_BIT = 1 << 29;

/** AMO funct5 values (A extension, Table "AMO encodings"). */
export const enum Amo {
  ADD = 0x00, SWAP = 0x01, LR = 0x02, SC = 0x03, XOR = 0x04, OR = 0x08, AND = 0x0c,
  MIN = 0x10, MAX = 0x14, MINU = 0x18, MAXU = 0x1c,
}

function pack(op: Op, rd: number, rs1: number, rs2: number): number {
  return op | (rd << 9) | (rs1 << 16) | (rs2 << 23);
}

/** Result of a decode: the packed word and immediate (module scratch, no allocation). */
export const decoded = { word: 0, imm: 0 };

function out(op: Op, rd: number, rs1: number, rs2: number, imm: number): void {
  decoded.word = pack(op, rd, rs1, rs2);
  decoded.imm = imm | 0;
}

function illegal(raw: number): void {
  decoded.word = Op.ILLEGAL;
  decoded.imm = raw | 0;
}

/** rd or the sink when the instruction must still run for its other effects. */
function sinkRd(rd: number): number {
  return rd === 0 ? RD_SINK : rd;
}

const immI = (i: number): number => i >> 20;
const immS = (i: number): number => ((i >> 25) << 5) | ((i >>> 7) & 0x1f);
const immB = (i: number): number =>
  ((i >> 31) << 12) | (((i >>> 7) & 1) << 11) | (((i >>> 25) & 0x3f) << 5) | (((i >>> 8) & 0xf) << 1);
const immJ = (i: number): number =>
  ((i >> 31) << 20) | (((i >>> 12) & 0xff) << 12) | (((i >>> 20) & 1) << 11) | (((i >>> 21) & 0x3ff) << 1);

const ALU_IMM: readonly Op[] = [Op.ADDI, Op.SLLI, Op.SLTI, Op.SLTIU, Op.XORI, Op.SRLI, Op.ORI, Op.ANDI];
const LOADS: readonly Op[] = [Op.LB, Op.LH, Op.LW, Op.LD, Op.LBU, Op.LHU, Op.LWU, Op.ILLEGAL];
const STORES: readonly Op[] = [Op.SB, Op.SH, Op.SW, Op.SD];
const BRANCHES: readonly Op[] = [Op.BEQ, Op.BNE, Op.ILLEGAL, Op.ILLEGAL, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
const OP_BASE: readonly Op[] = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND];
const OP_MUL: readonly Op[] = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
const OP32_MUL: readonly Op[] = [Op.MULW, Op.ILLEGAL, Op.ILLEGAL, Op.ILLEGAL, Op.DIVW, Op.DIVUW, Op.REMW, Op.REMUW];
const CSR_OPS: readonly Op[] = [Op.ILLEGAL, Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.ILLEGAL, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI];
const AMO_FUNCT5 = new Set<number>([0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c]);

/** Decode a 32-bit instruction into `decoded`. */
export function decode32(insn: number): void {
  const opcode = insn & 0x7f;
  const rd = (insn >>> 7) & 31;
  const f3 = (insn >>> 12) & 7;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const f7 = insn >>> 25;
  switch (opcode) {
    case 0x37: // LUI
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(Op.LUI, rd, 0, 0, insn & 0xfffff000);
    case 0x17: // AUIPC
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(Op.AUIPC, rd, 0, 0, insn & 0xfffff000);
    case 0x6f:
      return out(Op.JAL, sinkRd(rd), 0, 0, immJ(insn));
    case 0x67:
      return f3 === 0 ? out(Op.JALR, sinkRd(rd), rs1, 0, immI(insn)) : illegal(insn);
    case 0x63: {
      const op = BRANCHES[f3];
      return op === Op.ILLEGAL ? illegal(insn) : out(op, 0, rs1, rs2, immB(insn));
    }
    case 0x03: {
      const op = LOADS[f3];
      return op === Op.ILLEGAL ? illegal(insn) : out(op, sinkRd(rd), rs1, 0, immI(insn));
    }
    case 0x23:
      return f3 < 4 ? out(STORES[f3], 0, rs1, rs2, immS(insn)) : illegal(insn);
    case 0x13: {
      let op = ALU_IMM[f3];
      let imm = immI(insn);
      if (f3 === 1 || f3 === 5) {
        // RV64 shifts: 6-bit shamt, funct6 selects logical/arithmetic.
        const f6 = insn >>> 26;
        imm = rs2 | ((f7 & 1) << 5);
        if (f3 === 1 && f6 !== 0) return illegal(insn);
        if (f3 === 5) {
          if (f6 === 0x10) op = Op.SRAI;
          else if (f6 !== 0) return illegal(insn);
        }
      }
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(op, rd, rs1, 0, imm);
    }
    case 0x1b: {
      let op: Op;
      let imm = immI(insn);
      if (f3 === 0) op = Op.ADDIW;
      else if (f3 === 1 && f7 === 0) { op = Op.SLLIW; imm = rs2; }
      else if (f3 === 5 && f7 === 0) { op = Op.SRLIW; imm = rs2; }
      else if (f3 === 5 && f7 === 0x20) { op = Op.SRAIW; imm = rs2; }
      else return illegal(insn);
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(op, rd, rs1, 0, imm);
    }
    case 0x33: {
      let op: Op;
      if (f7 === 0) op = OP_BASE[f3];
      else if (f7 === 1) op = OP_MUL[f3];
      else if (f7 === 0x20 && f3 === 0) op = Op.SUB;
      else if (f7 === 0x20 && f3 === 5) op = Op.SRA;
      else return illegal(insn);
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(op, rd, rs1, rs2, 0);
    }
    case 0x3b: {
      let op: Op;
      if (f7 === 0 && f3 === 0) op = Op.ADDW;
      else if (f7 === 0x20 && f3 === 0) op = Op.SUBW;
      else if (f7 === 0 && f3 === 1) op = Op.SLLW;
      else if (f7 === 0 && f3 === 5) op = Op.SRLW;
      else if (f7 === 0x20 && f3 === 5) op = Op.SRAW;
      else if (f7 === 1) op = OP32_MUL[f3];
      else return illegal(insn);
      if (op === Op.ILLEGAL) return illegal(insn);
      return rd === 0 ? out(Op.NOP, 0, 0, 0, 0) : out(op, rd, rs1, rs2, 0);
    }
    case 0x0f:
      // FENCE (any pred/succ/fm, incl. PAUSE and FENCE.TSO) orders nothing on a single in-order
      // hart with sequentially consistent memory; FENCE.I flushes the decode cache.
      if (f3 === 0) return out(Op.FENCE, 0, 0, 0, 0);
      if (f3 === 1) return out(Op.FENCE_I, 0, 0, 0, 0);
      return illegal(insn);
    case 0x73:
      if (f3 === 0) {
        if (insn === 0x00000073) return out(Op.ECALL, 0, 0, 0, 0);
        if (insn === 0x00100073) return out(Op.EBREAK, 0, 0, 0, 0);
        if (insn === 0x10200073) return out(Op.SRET, 0, 0, 0, 0);
        if (insn === 0x10500073) return out(Op.WFI, 0, 0, 0, 0);
        if (f7 === 0x09 && rd === 0) return out(Op.SFENCE_VMA, 0, rs1, rs2, insn);
        return illegal(insn); // mret, hypervisor fences, ...: not available in (V)S mode
      }
      if (f3 === 4) return illegal(insn); // hypervisor virtual-machine loads/stores
      return out(CSR_OPS[f3], sinkRd(rd), rs1, 0, insn); // imm = raw bits (csr = imm >>> 20)
    case 0x2f: {
      const f5 = insn >>> 27;
      if ((f3 !== 2 && f3 !== 3) || !AMO_FUNCT5.has(f5)) return illegal(insn);
      if (f5 === 0x02 && rs2 !== 0) return illegal(insn);
      return out(Op.AMO, sinkRd(rd), rs1, rs2, (f5 << 1) | (f3 & 1));
    }
    case 0x07:
      if (f3 === 2) return out(Op.FLW, rd, rs1, 0, immI(insn));
      if (f3 === 3) return out(Op.FLD, rd, rs1, 0, immI(insn));
      return illegal(insn);
    case 0x27:
      if (f3 === 2) return out(Op.FSW, 0, rs1, rs2, immS(insn));
      if (f3 === 3) return out(Op.FSD, 0, rs1, rs2, immS(insn));
      return illegal(insn);
    case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53:
      return out(Op.FPOP, 0, 0, 0, insn);
    default:
      return illegal(insn);
  }
}

// Encoders for the 32-bit equivalents of compressed instructions.
const encI = (opc: number, rd: number, f3: number, rs1: number, imm: number): number =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
const encR = (opc: number, rd: number, f3: number, rs1: number, rs2: number, f7: number): number =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
const encS = (opc: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | opc;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
  (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63;
const encJ = (rd: number, imm: number): number =>
  (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
  (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;

const bit = (c: number, b: number): number => (c >>> b) & 1;
/** Sign-extend the low `bits` bits of v. */
const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/** Expand a 16-bit RVC instruction to its 32-bit equivalent; -1 for reserved/illegal encodings. */
export function expandCompressed(c: number): number {
  const quadrant = c & 3;
  const f3 = (c >>> 13) & 7;
  const rdFull = (c >>> 7) & 31;
  const rs2Full = (c >>> 2) & 31;
  const rdP = 8 + ((c >>> 2) & 7); // rd' / rs2' in bits 4:2
  const rs1P = 8 + ((c >>> 7) & 7); // rs1' / rd' in bits 9:7
  // C.LW/C.SW offset: uimm[5:3] = c[12:10], uimm[2] = c[6], uimm[6] = c[5]
  const offW = (((c >>> 10) & 7) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
  // C.LD/C.SD/C.FLD/C.FSD offset: uimm[5:3] = c[12:10], uimm[7:6] = c[6:5]
  const offD = (((c >>> 10) & 7) << 3) | (((c >>> 5) & 3) << 6);
  const imm6 = sext((bit(c, 12) << 5) | ((c >>> 2) & 31), 6);
  if (quadrant === 0) {
    switch (f3) {
      case 0: { // C.ADDI4SPN: nzuimm[5:4|9:6|2|3]
        const imm = (((c >>> 11) & 3) << 4) | (((c >>> 7) & 15) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
        if (imm === 0) return -1; // includes the all-zero illegal instruction
        return encI(0x13, rdP, 0, 2, imm);
      }
      case 1: return encI(0x07, rdP, 3, rs1P, offD); // C.FLD
      case 2: return encI(0x03, rdP, 2, rs1P, offW); // C.LW
      case 3: return encI(0x03, rdP, 3, rs1P, offD); // C.LD
      case 5: return encS(0x27, 3, rs1P, rdP, offD); // C.FSD
      case 6: return encS(0x23, 2, rs1P, rdP, offW); // C.SW
      case 7: return encS(0x23, 3, rs1P, rdP, offD); // C.SD
      default: return -1;
    }
  }
  if (quadrant === 1) {
    switch (f3) {
      case 0: return encI(0x13, rdFull, 0, rdFull, imm6); // C.ADDI / C.NOP (hints included)
      case 1: // C.ADDIW (rd = 0 reserved)
        return rdFull === 0 ? -1 : encI(0x1b, rdFull, 0, rdFull, imm6);
      case 2: return encI(0x13, rdFull, 0, 0, imm6); // C.LI
      case 3:
        if (rdFull === 2) { // C.ADDI16SP: nzimm[9|4|6|8:7|5]
          const imm = sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) |
            (((c >>> 3) & 3) << 7) | (bit(c, 2) << 5), 10);
          return imm === 0 ? -1 : encI(0x13, 2, 0, 2, imm);
        }
        if (imm6 === 0) return -1; // C.LUI with nzimm = 0 is reserved
        return ((imm6 << 12) & 0xfffff000) | (rdFull << 7) | 0x37; // C.LUI
      case 4: {
        const f2 = (c >>> 10) & 3;
        const shamt = (bit(c, 12) << 5) | ((c >>> 2) & 31);
        if (f2 === 0) return encI(0x13, rs1P, 5, rs1P, shamt); // C.SRLI
        if (f2 === 1) return encI(0x13, rs1P, 5, rs1P, shamt | 0x400); // C.SRAI
        if (f2 === 2) return encI(0x13, rs1P, 7, rs1P, imm6); // C.ANDI
        const sub = (c >>> 5) & 3;
        if (bit(c, 12) === 0) {
          // C.SUB, C.XOR, C.OR, C.AND
          const f3s = [0, 4, 6, 7][sub];
          return encR(0x33, rs1P, f3s, rs1P, rdP, sub === 0 ? 0x20 : 0);
        }
        if (sub === 0) return encR(0x3b, rs1P, 0, rs1P, rdP, 0x20); // C.SUBW
        if (sub === 1) return encR(0x3b, rs1P, 0, rs1P, rdP, 0); // C.ADDW
        return -1;
      }
      case 5: { // C.J: imm[11|4|9:8|10|6|7|3:1|5]
        const imm = sext((bit(c, 12) << 11) | (bit(c, 11) << 4) | (((c >>> 9) & 3) << 8) |
          (bit(c, 8) << 10) | (bit(c, 7) << 6) | (bit(c, 6) << 7) | (((c >>> 3) & 7) << 1) |
          (bit(c, 2) << 5), 12);
        return encJ(0, imm);
      }
      default: { // 6 C.BEQZ, 7 C.BNEZ: imm[8|4:3|7:6|2:1|5]
        const imm = sext((bit(c, 12) << 8) | (((c >>> 10) & 3) << 3) | (((c >>> 5) & 3) << 6) |
          (((c >>> 3) & 3) << 1) | (bit(c, 2) << 5), 9);
        return encB(f3 === 6 ? 0 : 1, rs1P, 0, imm);
      }
    }
  }
  // quadrant 2
  switch (f3) {
    case 0: { // C.SLLI
      const shamt = (bit(c, 12) << 5) | rs2Full;
      return encI(0x13, rdFull, 1, rdFull, shamt);
    }
    case 1: { // C.FLDSP: uimm[5|4:3|8:6]
      const imm = (bit(c, 12) << 5) | (((c >>> 5) & 3) << 3) | (((c >>> 2) & 7) << 6);
      return encI(0x07, rdFull, 3, 2, imm);
    }
    case 2: { // C.LWSP: uimm[5|4:2|7:6]
      if (rdFull === 0) return -1;
      const imm = (bit(c, 12) << 5) | (((c >>> 4) & 7) << 2) | (((c >>> 2) & 3) << 6);
      return encI(0x03, rdFull, 2, 2, imm);
    }
    case 3: { // C.LDSP
      if (rdFull === 0) return -1;
      const imm = (bit(c, 12) << 5) | (((c >>> 5) & 3) << 3) | (((c >>> 2) & 7) << 6);
      return encI(0x03, rdFull, 3, 2, imm);
    }
    case 4:
      if (bit(c, 12) === 0) {
        if (rs2Full === 0) return rdFull === 0 ? -1 : encI(0x67, 0, 0, rdFull, 0); // C.JR
        return encR(0x33, rdFull, 0, 0, rs2Full, 0); // C.MV
      }
      if (rs2Full === 0) {
        if (rdFull === 0) return 0x00100073; // C.EBREAK
        return encI(0x67, 1, 0, rdFull, 0); // C.JALR
      }
      return encR(0x33, rdFull, 0, rdFull, rs2Full, 0); // C.ADD
    case 5: { // C.FSDSP: uimm[5:3|8:6]
      const imm = (((c >>> 10) & 7) << 3) | (((c >>> 7) & 7) << 6);
      return encS(0x27, 3, 2, rs2Full, imm);
    }
    case 6: { // C.SWSP: uimm[5:2|7:6]
      const imm = (((c >>> 9) & 15) << 2) | (((c >>> 7) & 3) << 6);
      return encS(0x23, 2, 2, rs2Full, imm);
    }
    default: { // C.SDSP
      const imm = (((c >>> 10) & 7) << 3) | (((c >>> 7) & 7) << 6);
      return encS(0x23, 3, 2, rs2Full, imm);
    }
  }
}

/** Decode a 16-bit compressed instruction into `decoded` (with the compressed bit set). */
export function decode16(c: number): void {
  const insn = expandCompressed(c);
  if (insn === -1) return illegal(c);
  decode32(insn);
  if ((decoded.word & 0xff) === Op.ILLEGAL) decoded.imm = c; // stval holds the 16-bit encoding
  else decoded.word |= COMPRESSED_BIT;
}
