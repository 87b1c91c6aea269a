/**
 * Block compiler to WebAssembly: the same blocks, under exactly the same contract, as jit.ts (read
 * its header: what a block holds, side exits before slow memory accesses, branches taken = exit,
 * intra-page jal followed, loops while the budget holds a whole pass, entered only with
 * left >= length), but emitted as a WebAssembly function instead of JavaScript source.
 *
 * Why: V8 runs a freshly made JS function in its bytecode interpreter until it is very hot, while a
 * WebAssembly module is compiled straight to machine code by Liftoff (and tiered up to TurboFan
 * when hot), and i64 is a native type there — RV64 registers and arithmetic map one to one.
 *
 * Everything a block touches is in the VM's arena (arena.ts), one shared memory the module imports:
 *   - the register file (hart.ts regs: x_n as a little-endian lo/hi int32 pair = one i64 at
 *     regsAddr + 8n), loaded into i64 locals on entry, written back on every way out;
 *   - the "out" words (hart.ts jitOut): [0] next pc high half, [1] retired, [2] slow flag;
 *   - the load and store TLBs (tlb.ts arrays tagLo, tagHi, offset, addr, 4 KiB each): a load or
 *     store checks its entry inline and accesses guest RAM at addr + page offset. addr = 0 (the
 *     page's region is not in this arena), a miss, or a page offset above 4088 is a side exit.
 * No WebAssembly trap can happen: memory is only addressed through TLB entries, which hold only
 * whole pages inside the arena; integer division is guarded for /0 and overflow (RISC-V M
 * extension, unprivileged spec §13.2 table 11: x/0 = all ones, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0);
 * nothing else in the emitted instruction set can trap.
 *
 * Exported signature, as jit.ts BlockFn: (baseLo i32, baseHi i32, left i32) -> i32 next pc low.
 */
import { Op } from './decode.js';
import type { Arena } from './arena.js';
import { TLB_MASK, TLB_SIZE } from './tlb.js';
import type { BlockFn, JitPage } from './jit.js';
import { MAX_BLOCK, NO_BLOCK } from './jit.js';
import { ByteWriter, I32, I64, VOID, W, blockModule, type FunctionBody } from './wasm-encoder.js';
import { Wasm } from './wasm-api.js';

const SLOTS = 2048;

/** Where a hart's block state lives in its arena (absolute byte addresses). */
export interface WasmJitEnv {
  readonly arena: Arena;
  readonly regsAddr: number;
  readonly outAddr: number;
  /** Base of a TLB's four arrays: tagLo at +0, tagHi, offset, addr at +4/+8/+12 KiB. */
  readonly ltlbAddr: number;
  readonly stlbAddr: number;
  /** Compiled functions by body bytes: a block recompiled after an invalidation gets its old
   * (already tiered-up) function back. Bounded. */
  readonly cache: Map<string, BlockFn>;
}

/** Process-wide counters for tests and benchmarks. */
export const wasmStats = { blocks: 0, modules: 0, bytes: 0 };
const MAX_CACHE = 8192;

// Locals (§5.5.13: parameters come first, then the declared locals in order).
const P_BASELO = 0, P_BASEHI = 1, P_LEFT = 2;
const L_NLO = 3, L_NHI = 4, L_RET = 5, L_SLOW = 6, L_DONE = 7, L_LO = 8, L_T = 9, L_ADDR = 10;
const I32_LOCALS = 8;
const L_PCBASE = 11, L_EA = 12, L_A = 13, L_B = 14, L_PC = 15;
/** x1..x31 are locals L_X + n - 1; the sink (writes to x0 with other effects) is L_SINK. */
const L_X = 16, L_SINK = 47;
const I64_LOCALS = 5 + 32;

const TAG_HI = 4 * TLB_SIZE, ADDR = 12 * TLB_SIZE;

/** Emission state of one block. */
class Emitter {
  readonly w = new ByteWriter();
  /** Registers (1..31) read or written, and written. */
  readonly used = new Set<number>();
  readonly written = new Set<number>();
  /** Structured blocks opened inside the loop body (br depths count them). */
  depth = 0;
  ends = false;
  follow = -1;
  looped = false;
  constructor(readonly env: WasmJitEnv, readonly startOff: number, readonly len: number) {}

  /** Push register slot s (decode.ts: 2n for x_n) as i64; x0 reads 0. */
  reg(s: number): void {
    const n = s >>> 1;
    if (n === 0) { this.w.i64(0); return; }
    this.used.add(n);
    this.w.get(L_X + n - 1);
  }

  /** Pop an i64 into destination slot s (the sink slot 64 and x0 go to a scratch local). */
  setReg(s: number): void {
    const n = s >>> 1;
    if (n === 0 || n > 31) { this.w.set(L_SINK); return; }
    this.used.add(n);
    this.written.add(n);
    this.w.set(L_X + n - 1);
  }

  /** Push the pc of page offset `off` (may be 4096: the next page) as i64. */
  pc(off: number): void {
    this.w.get(L_PCBASE);
    if (off !== 0) this.w.i64(off).op(W.i64_add);
  }

  /** Leave with the i64 pc on the stack after `retired` more instructions of this pass. */
  exit(retired: number, slow: boolean): void {
    const w = this.w;
    w.tee(L_PC).op(W.i32_wrap_i64).set(L_NLO);
    w.get(L_PC).i64(32).op(W.i64_shr_u).op(W.i32_wrap_i64).set(L_NHI);
    w.get(L_DONE);
    if (retired !== 0) w.i32(retired).op(W.i32_add);
    w.set(L_RET);
    w.i32(slow ? 1 : 0).set(L_SLOW);
    w.op(W.br).u32(this.depth + 1);
  }

  /** Jump back to the block's first instruction after `retired` instructions of this pass: round
   * again if the budget holds another whole pass (jit.ts loopBack), else return there. */
  loopBack(retired: number): void {
    const w = this.w;
    w.get(L_DONE).i32(retired).op(W.i32_add).set(L_DONE);
    w.get(P_LEFT).get(L_DONE).op(W.i32_sub).i32(this.len).op(W.i32_ge_s).op(W.br_if).u32(this.depth);
    this.pc(this.startOff);
    this.exit(0, false);
  }

  /** `if` (void) around code that exits. */
  ifThen(body: () => void): void {
    this.w.op(W.if).byte(VOID);
    this.depth++;
    body();
    this.depth--;
    this.w.op(W.end);
  }

  /** ea = rs1 + imm as i64 in L_EA, low half in L_LO; then the TLB check (tlb.ts layout) at
   * `tlb`, side-exiting before this instruction (retired = k) on a miss, a page offset above 4088
   * or a page outside the arena; leaves the host address in L_ADDR. */
  tlbCheck(r1: number, imm: number, tlb: number, k: number, off: number): void {
    const w = this.w;
    this.reg(r1);
    w.i64(imm).op(W.i64_add).tee(L_EA).op(W.i32_wrap_i64).set(L_LO);
    // Entry index * 4: ((lo >>> 12) & TLB_MASK) << 2.
    w.get(L_LO).i32(10).op(W.i32_shr_u).i32(TLB_MASK << 2).op(W.i32_and).set(L_T);
    w.get(L_T).mem(W.i32_load, 2, tlb).get(L_LO).i32(-4096).op(W.i32_and).op(W.i32_ne);
    w.get(L_T).mem(W.i32_load, 2, tlb + TAG_HI).get(L_EA).i64(32).op(W.i64_shr_u).op(W.i32_wrap_i64).op(W.i32_ne).op(W.i32_or);
    w.get(L_LO).i32(4095).op(W.i32_and).i32(4088).op(W.i32_gt_u).op(W.i32_or);
    w.get(L_T).mem(W.i32_load, 2, tlb + ADDR).tee(L_ADDR).op(W.i32_eqz).op(W.i32_or);
    this.ifThen(() => { this.pc(off); this.exit(k, true); });
    w.get(L_ADDR).get(L_LO).i32(4095).op(W.i32_and).op(W.i32_add).set(L_ADDR);
  }
}

const BRANCH_CMP: Record<number, W> = {
  [Op.BEQ]: W.i64_eq, [Op.BNE]: W.i64_ne, [Op.BLT]: W.i64_lt_s, [Op.BGE]: W.i64_ge_s, [Op.BLTU]: W.i64_lt_u, [Op.BGEU]: W.i64_ge_u,
};
const LOAD_OP: Record<number, W> = {
  [Op.LB]: W.i64_load8_s, [Op.LBU]: W.i64_load8_u, [Op.LH]: W.i64_load16_s, [Op.LHU]: W.i64_load16_u,
  [Op.LW]: W.i64_load32_s, [Op.LWU]: W.i64_load32_u, [Op.LD]: W.i64_load,
};
const STORE_OP: Record<number, W> = { [Op.SB]: W.i64_store8, [Op.SH]: W.i64_store16, [Op.SW]: W.i64_store32, [Op.SD]: W.i64_store };
/** Register-register ops that are one i64 instruction. */
const RR64: Record<number, W> = {
  [Op.ADD]: W.i64_add, [Op.SUB]: W.i64_sub, [Op.SLL]: W.i64_shl, [Op.SRL]: W.i64_shr_u, [Op.SRA]: W.i64_shr_s,
  [Op.XOR]: W.i64_xor, [Op.OR]: W.i64_or, [Op.AND]: W.i64_and, [Op.MUL]: W.i64_mul,
};
const RI64: Record<number, W> = {
  [Op.ADDI]: W.i64_add, [Op.XORI]: W.i64_xor, [Op.ORI]: W.i64_or, [Op.ANDI]: W.i64_and,
  [Op.SLLI]: W.i64_shl, [Op.SRLI]: W.i64_shr_u, [Op.SRAI]: W.i64_shr_s,
};
/** 32-bit ops whose result is sign-extended (the *W instructions, RV64I §4.2). */
const RR32: Record<number, W> = {
  [Op.ADDW]: W.i32_add, [Op.SUBW]: W.i32_sub, [Op.SLLW]: W.i32_shl, [Op.SRLW]: W.i32_shr_u, [Op.SRAW]: W.i32_shr_s, [Op.MULW]: W.i32_mul,
};
const RI32: Record<number, W> = { [Op.ADDIW]: W.i32_add, [Op.SLLIW]: W.i32_shl, [Op.SRLIW]: W.i32_shr_u, [Op.SRAIW]: W.i32_shr_s };

/** Emits one instruction; false when the block must end before it. */
function emit(e: Emitter, word: number, imm: number, k: number, off: number): boolean {
  const w = e.w;
  const op = word & 255;
  const rd = (word >>> 8) & 127, r1 = (word >>> 15) & 127, r2 = (word >>> 22) & 127;
  const len = (word >>> 29) & 1 ? 2 : 4;
  switch (op) {
    case Op.NOP: case Op.FENCE: return true;
    case Op.LUI: w.i64(imm); e.setReg(rd); return true;
    case Op.AUIPC: e.pc(off); w.i64(imm).op(W.i64_add); e.setReg(rd); return true;
    case Op.JAL: case Op.JALR: {
      if (op === Op.JAL && off + imm >= 0 && off + imm < 4096) {
        e.pc(off + len); e.setReg(rd);
        if (off + imm === e.startOff) { e.ends = true; e.looped = true; e.loopBack(k + 1); return true; }
        e.follow = off + imm;
        return true;
      }
      e.ends = true;
      // Target first: rd may be rs1 (jalr). JALR clears bit 0 (RV64I §2.5.1).
      if (op === Op.JAL) e.pc(off); else e.reg(r1);
      w.i64(imm).op(W.i64_add).i64(-2).op(W.i64_and).set(L_EA);
      e.pc(off + len); e.setReg(rd);
      w.get(L_EA);
      e.exit(k + 1, false);
      return true;
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      e.reg(r1); e.reg(r2); w.op(BRANCH_CMP[op]);
      if (off + imm === e.startOff) {
        e.looped = true;
        e.ifThen(() => e.loopBack(k + 1));
      } else {
        e.ifThen(() => { e.pc(off + imm); e.exit(k + 1, false); });
      }
      return true;
    }
    case Op.LB: case Op.LH: case Op.LW: case Op.LD: case Op.LBU: case Op.LHU: case Op.LWU:
      e.tlbCheck(r1, imm, e.env.ltlbAddr, k, off);
      w.get(L_ADDR).mem(LOAD_OP[op], 0, 0);
      e.setReg(rd);
      return true;
    case Op.SB: case Op.SH: case Op.SW: case Op.SD:
      e.tlbCheck(r1, imm, e.env.stlbAddr, k, off);
      w.get(L_ADDR);
      e.reg(r2);
      w.mem(STORE_OP[op], 0, 0);
      return true;
    case Op.ADDI: case Op.XORI: case Op.ORI: case Op.ANDI: case Op.SLLI: case Op.SRLI: case Op.SRAI:
      e.reg(r1); w.i64(imm).op(RI64[op]); e.setReg(rd); return true;
    case Op.SLTI: case Op.SLTIU:
      e.reg(r1); w.i64(imm).op(op === Op.SLTI ? W.i64_lt_s : W.i64_lt_u).op(W.i64_extend_i32_u); e.setReg(rd); return true;
    case Op.ADD: case Op.SUB: case Op.SLL: case Op.SRL: case Op.SRA: case Op.XOR: case Op.OR: case Op.AND: case Op.MUL:
      // i64 shifts use the amount mod 64, as RV64 SLL/SRL/SRA do (RV64I §4.2.2).
      e.reg(r1); e.reg(r2); w.op(RR64[op]); e.setReg(rd); return true;
    case Op.SLT: case Op.SLTU:
      e.reg(r1); e.reg(r2); w.op(op === Op.SLT ? W.i64_lt_s : W.i64_lt_u).op(W.i64_extend_i32_u); e.setReg(rd); return true;
    case Op.ADDIW: case Op.SLLIW: case Op.SRLIW: case Op.SRAIW:
      e.reg(r1); w.op(W.i32_wrap_i64).i32(imm).op(RI32[op]).op(W.i64_extend_i32_s); e.setReg(rd); return true;
    case Op.ADDW: case Op.SUBW: case Op.SLLW: case Op.SRLW: case Op.SRAW: case Op.MULW:
      // i32 shifts use the amount mod 32, as the *W shifts do.
      e.reg(r1); w.op(W.i32_wrap_i64); e.reg(r2); w.op(W.i32_wrap_i64).op(RR32[op]).op(W.i64_extend_i32_s); e.setReg(rd); return true;
    case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU:
      e.reg(r1); w.set(L_A); e.reg(r2); w.set(L_B);
      divide64(w, op);
      e.setReg(rd);
      return true;
    case Op.DIVW: case Op.DIVUW: case Op.REMW: case Op.REMUW:
      e.reg(r1); w.set(L_A); e.reg(r2); w.set(L_B);
      divide32(w, op);
      w.op(W.i64_extend_i32_s);
      e.setReg(rd);
      return true;
    default:
      return false;
  }
}

/** DIV/DIVU/REM/REMU of L_A by L_B, never trapping (unpriv spec §13.2: x/0 = -1, x%0 = x; signed
 * overflow MIN/-1 = MIN, MIN%-1 = 0; any x / -1 = -x, computed as 0 - x, wraps to MIN for MIN). */
function divide64(w: ByteWriter, op: number): void {
  const signed = op === Op.DIV || op === Op.REM;
  const isDiv = op === Op.DIV || op === Op.DIVU;
  w.get(L_B).op(W.i64_eqz).op(W.if).byte(I64);
  if (isDiv) w.i64(-1); else w.get(L_A);
  w.op(W.else);
  if (signed) {
    w.get(L_B).i64(-1).op(W.i64_eq).op(W.if).byte(I64);
    if (isDiv) w.i64(0).get(L_A).op(W.i64_sub); else w.i64(0);
    w.op(W.else);
  }
  w.get(L_A).get(L_B).op(isDiv ? (signed ? W.i64_div_s : W.i64_div_u) : (signed ? W.i64_rem_s : W.i64_rem_u));
  if (signed) w.op(W.end);
  w.op(W.end);
}

/** DIVW/DIVUW/REMW/REMUW on the low halves of L_A, L_B; leaves an i32 (then sign-extended). */
function divide32(w: ByteWriter, op: number): void {
  const signed = op === Op.DIVW || op === Op.REMW;
  const isDiv = op === Op.DIVW || op === Op.DIVUW;
  const a = () => w.get(L_A).op(W.i32_wrap_i64);
  const b = () => w.get(L_B).op(W.i32_wrap_i64);
  b(); w.op(W.i32_eqz).op(W.if).byte(I32);
  if (isDiv) w.i32(-1); else a();
  w.op(W.else);
  if (signed) {
    b(); w.i32(-1).op(W.i32_eq).op(W.if).byte(I32);
    if (isDiv) { w.i32(0); a(); w.op(W.i32_sub); } else w.i32(0);
    w.op(W.else);
  }
  a(); b(); w.op(isDiv ? (signed ? W.i32_div_s : W.i32_div_u) : (signed ? W.i32_rem_s : W.i32_rem_u));
  if (signed) w.op(W.end);
  w.op(W.end);
}

export interface WasmBlock {
  body: FunctionBody;
  length: number;
  looped: boolean;
}

/** One pass over the block at `start` with `len` as the loop-pass bound; null if nothing compiles. */
function emitBlock(env: WasmJitEnv, ops: Int32Array, imms: Int32Array, start: number, decodeAt: (i: number) => void, len: number): { e: Emitter; n: number } | null {
  const e = new Emitter(env, start * 2, len);
  let i = start;
  let n = 0;
  while (i < SLOTS && n < MAX_BLOCK) {
    if (ops[i] === Op.UNDECODED) decodeAt(i);
    const word = ops[i];
    e.follow = -1;
    if (!emit(e, word, imms[i], n, i * 2)) break;
    n++;
    i = e.follow >= 0 ? e.follow >>> 1 : i + ((word >>> 29) & 1 ? 1 : 2);
    if (e.ends) break;
  }
  if (n === 0) return null;
  if (!e.ends) { e.pc(i * 2); e.exit(n, false); }
  return { e, n };
}

/** The function body of the block at slot `start`, or null if its first instruction does not
 * compile. Emitted twice: the first pass finds the block's length, which loop passes compare the
 * remaining budget against. */
export function wasmBlock(env: WasmJitEnv, ops: Int32Array, imms: Int32Array, start: number, decodeAt: (i: number) => void): WasmBlock | null {
  const first = emitBlock(env, ops, imms, start, decodeAt, MAX_BLOCK);
  if (first === null) return null;
  const { e, n } = emitBlock(env, ops, imms, start, decodeAt, first.n) as { e: Emitter; n: number };
  const code = new ByteWriter();
  // pcBase = baseHi:baseLo as i64.
  code.get(P_BASEHI).op(W.i64_extend_i32_u).i64(32).op(W.i64_shl).get(P_BASELO).op(W.i64_extend_i32_u).op(W.i64_or).set(L_PCBASE);
  const regs = [...e.used].sort((p, q) => p - q);
  for (const r of regs) code.i32(0).mem(W.i64_load, 3, env.regsAddr + 8 * r).set(L_X + r - 1);
  code.op(W.block).byte(VOID).op(W.loop).byte(VOID).append(e.w).op(W.end).op(W.end);
  for (const r of [...e.written].sort((p, q) => p - q)) code.i32(0).get(L_X + r - 1).mem(W.i64_store, 3, env.regsAddr + 8 * r);
  code.i32(0).get(L_NHI).mem(W.i32_store, 2, env.outAddr);
  code.i32(0).get(L_RET).mem(W.i32_store, 2, env.outAddr + 4);
  code.i32(0).get(L_SLOW).mem(W.i32_store, 2, env.outAddr + 8);
  code.get(L_NLO).op(W.end);
  return { body: { locals: [[I32_LOCALS, I32], [I64_LOCALS, I64]], code }, length: n, looped: e.looped };
}

/** Instantiates functions from bodies (one module for all of them). */
export function instantiateBlocks(env: WasmJitEnv, bodies: FunctionBody[]): BlockFn[] {
  const bytes = blockModule(bodies);
  const module = new Wasm.Module(bytes);
  const instance = new Wasm.Instance(module, { m: { m: env.arena.memory } });
  wasmStats.modules++;
  wasmStats.bytes += bytes.length;
  return bodies.map((_, k) => instance.exports[`f${k}`] as BlockFn);
}

function cacheKey(body: FunctionBody): string {
  return Buffer.from(body.code.finish()).toString('latin1');
}

/** Compiles (or reuses) the block at slot `start` of a page into `jp`; false if nothing compiles
 * there (then the slot is marked NO_BLOCK). */
export function compileWasmBlock(jp: JitPage, env: WasmJitEnv, ops: Int32Array, imms: Int32Array, start: number, decodeAt: (i: number) => void): boolean {
  const block = wasmBlock(env, ops, imms, start, decodeAt);
  if (block === null) {
    jp.slot[start] = NO_BLOCK;
    return false;
  }
  const key = cacheKey(block.body);
  let fn = env.cache.get(key);
  if (fn === undefined) {
    fn = instantiateBlocks(env, [block.body])[0];
    if (env.cache.size >= MAX_CACHE) env.cache.clear();
    env.cache.set(key, fn);
  }
  jp.fns.push(fn);
  jp.lens.push(block.length);
  jp.slot[start] = jp.fns.length;
  wasmStats.blocks++;
  return true;
}
