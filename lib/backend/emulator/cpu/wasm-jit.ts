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
 * Exported signature, as jit.ts BlockFn: (baseLo i32, baseHi i32, left i32, entry i32) -> i32 next
 * pc low.
 *
 * Page groups: the WebAssembly blocks of one code page are compiled together into one module (it
 * is rebuilt, with all of them, when another block of the page gets hot; up to MAX_GROUP blocks).
 * Its one internal function holds every block behind a dispatch loop, and a block that leaves for
 * the start of another block of the group (a taken branch, the end of its path, a jalr that stays
 * in the page) goes there directly when the budget holds that block's whole length — exactly the
 * condition under which hart.ts chains from block to block inside a page — so hot code stays in
 * WebAssembly with its registers in locals. The module exports only that function; the hart
 * passes the block's index in the group as the `entry` argument (jit.ts BlockFn), because V8
 * makes a JS-to-WebAssembly wrapper per export at instantiation (measured: instantiation cost
 * grew with the export count).
 */
import { Op } from './decode.js';
import type { DecodedSlots } from './decoded-slots.js';
import type { Arena } from './arena.js';
import { TLB_MASK, TLB_SIZE } from './tlb.js';
import type { BlockFn, JitPage } from './jit.js';
import { MAX_BLOCK, NO_BLOCK, walkBlockPath } from './jit.js';
import { ByteWriter, I32, I64, VOID, W, encodeModule, type FuncType, type FunctionBody } from './wasm-encoder.js';
import { Wasm } from './wasm-api.js';
import { monotonicMs } from '../../../host/monotonic.js';

/** Where a hart's block state lives in its arena (absolute byte addresses). */
export interface WasmJitEnv {
  readonly arena: Arena;
  readonly regsAddr: number;
  readonly outAddr: number;
  /** Base of a TLB's four arrays: tagLo at +0, tagHi, offset, addr at +4/+8/+12 KiB. */
  readonly ltlbAddr: number;
  readonly stlbAddr: number;
  /** Asks for a full GC (host/gc.ts collectGarbage; tests count calls): called once every
   * `collectAfter` released group modules (releaseModules), which V8 frees only in a full GC. */
  readonly collect: () => void;
  collectAfter: number;
  /** Group modules released since the last collect(). */
  released: number;
}

/** Group modules released between two full GCs: ~27 KiB each while they wait (host/gc.ts).
 * Measured on the P3 boot (3 runs each, peak beyond guest RAM / seconds to the marker), first with
 * a GC every N module compiles: none 74.2-75.9 MiB / 3.41-3.53 s, every 64 71.4-75.2 / 3.45-3.49,
 * every 32 71.1-73.5 / 3.54-3.68 (a full GC takes 4-5 ms); then every 64 released modules, as
 * here: 71.2-72.4 MiB (5 runs). */
export const COLLECT_AFTER_MODULES = 64;

/** Count `n` group modules no longer referenced (superseded groups, forgotten pages' blocks);
 * once `collectAfter` have accumulated, ask for a full GC. */
export function releaseModules(env: WasmJitEnv, n: number): void {
  env.released += n;
  if (env.released < env.collectAfter) return;
  env.released = 0;
  env.collect();
  wasmStats.collections++;
}

/** Process-wide counters for tests and benchmarks. */
export const wasmStats = {
  blocks: 0, modules: 0, bytes: 0,
  /** Most instructions in one group module built (MAX_GROUP_INSNS bounds it). */
  maxGroupInsns: 0,
  /** Full GCs asked for by releaseModules. */
  collections: 0,
  /** Milliseconds in compileWasmBlock (emitting, compiling, instantiating), in new
   * WebAssembly.Module and in new WebAssembly.Instance. */
  ms: 0, moduleMs: 0, instanceMs: 0,
};
/** KVM_RISCV_JIT_STATS=1: print the counters to stderr when the process exits (benchmarks). */
if (typeof process !== 'undefined' && process.env.KVM_RISCV_JIT_STATS === '1') {
  process.on('exit', () => process.stderr.write(`kvm-riscv wasm-jit: ${JSON.stringify(wasmStats)}\n`));
}


// Locals (§5.5.13: parameters come first, then the declared locals in order). The internal group
// function takes (baseLo, baseHi, left, entry); `entry` is then the dispatch selector.
const P_BASELO = 0, P_BASEHI = 1, P_LEFT = 2, P_CUR = 3;
const L_NLO = 4, L_NHI = 5, L_RET = 6, L_SLOW = 7, L_DONE = 8, L_LO = 9, L_T = 10, L_ADDR = 11;
/** A constant-pc exit's code for the shared exit path (Emitter.exitAt). */
const L_XCODE = 12;
const I32_LOCALS = 9;
const L_PCBASE = 13, L_EA = 14, L_A = 15, L_B = 16, L_PC = 17;
/** x1..x31 are locals L_X + n - 1; the sink (writes to x0 with other effects) is L_SINK. */
const L_X = 18, L_SINK = 49;
/** Scratch for the high-product synthesis (mulh). */
const L_C = 50, L_D = 51, L_E = 52;
const I64_LOCALS = 5 + 32 + 3;
/** Most blocks in one page group (bounds module size and a jalr's target search). Why 12: V8's
 * optimising tier compiles a group's one function with memory superlinear in its size; groups of
 * 32 blocks grew to 56-87 KB modules late in the Linux boot, and their tier-up raised the VMM's
 * memory by ~35 MB for a moment. Measured on the P3 boot (3 runs each, peak memory beyond guest
 * RAM / seconds to the marker): 32 -> 132-147 MiB / 3.80-3.93 s, 16 -> 118-126 / 3.65-3.69,
 * 12 -> 109-115 / 3.57-3.64, 8 -> 107-113 / 3.59-3.69, 6 -> 108-110 / 3.64-3.69. */
export const MAX_GROUP = 12;
/** Most instructions in one page group (a single block may exceed it alone). Why: the optimising
 * tier's compile memory is about 170 bytes per byte of the function (V8 --trace-wasm-compilation-
 * times on the P3 boot), and at ~54 bytes of WebAssembly per instruction the few largest groups
 * (25-33 KB) took 4-5 MB each while they tiered up, the P3 boot's memory peak (issue 5). */
export const MAX_GROUP_INSNS = 192;

const TAG_HI = 4 * TLB_SIZE, ADDR = 12 * TLB_SIZE;

/** The blocks compiled together: where each starts (page byte offset) and its length. */
interface Group {
  readonly starts: Map<number, number>;
  readonly lens: number[];
  readonly offs: number[];
}

/** Emission state of one block of a group. */
class Emitter {
  readonly w = new ByteWriter();
  /** Registers (1..31) read or written, and written. */
  readonly used = new Set<number>();
  readonly written = new Set<number>();
  /** Structured blocks opened inside this block's code (br depths count them). */
  depth = 0;
  ends = false;
  follow = -1;
  looped = false;
  readonly startOff: number;
  /** br depths, from this block's code, of the dispatch loop, of the shared constant-pc exit
   * (exitAt) and of the exit block. */
  private readonly dispatchDepth: number;
  private readonly exitAtDepth: number;
  private readonly exitDepth: number;
  /** Block `index` of the group; index = group size is the shared indirect-jump dispatcher. */
  constructor(readonly env: WasmJitEnv, readonly group: Group, readonly index: number) {
    this.startOff = index < group.offs.length ? group.offs[index] : -1;
    this.dispatchDepth = group.offs.length - index;
    this.exitAtDepth = group.offs.length + 1 - index;
    this.exitDepth = group.offs.length + 2 - index;
  }

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

  /** Leave for the pc of page offset `off` (a constant, -4096..8191) after `retired` more
   * instructions of this pass, through the group's shared exit path (exitAtCode): one constant
   * and a branch here instead of the whole exit sequence at every side exit and branch out. Most
   * exits are of this kind, so this keeps modules small, and with them the optimising tier's
   * compile memory, which grows with the function's size (issue 5's memory goal). */
  exitAt(off: number, retired: number, slow: boolean): void {
    this.w.i32(exitCode(off, retired, slow)).set(L_XCODE).op(W.br).u32(this.depth + this.exitAtDepth);
  }

  /** Leave with the i64 pc on the stack after `retired` more instructions of this pass. */
  exit(retired: number, slow: boolean): void {
    const w = this.w;
    setNextPc(w);
    w.get(L_DONE);
    if (retired !== 0) w.i32(retired).op(W.i32_add);
    w.set(L_RET);
    w.i32(slow ? 1 : 0).set(L_SLOW);
    w.op(W.br).u32(this.depth + this.exitDepth);
  }

  /** Go to block j of the group after `retired` instructions of this pass if the budget holds its
   * whole length (hart.ts's chaining condition; jit.ts loopBack for j = this block), else leave
   * for its start. */
  goto(j: number, retired: number): void {
    const w = this.w;
    if (retired !== 0) w.get(L_DONE).i32(retired).op(W.i32_add).set(L_DONE);
    w.get(P_LEFT).get(L_DONE).op(W.i32_sub).i32(this.group.lens[j]).op(W.i32_ge_s);
    this.ifThen(() => { w.i32(j).set(P_CUR).op(W.br).u32(this.depth + this.dispatchDepth); });
    this.exitAt(this.group.offs[j], 0, false);
  }

  /** Leave for page offset `off` (a constant; outside 0..4095 means another page) after
   * `retired` instructions: straight into the group's block there if there is one. */
  leave(off: number, retired: number): void {
    const j = this.group.starts.get(off);
    if (j !== undefined) { if (j === this.index) this.looped = true; this.goto(j, retired); return; }
    this.exitAt(off, retired, false);
  }

  /** A jalr to L_EA after `retired` instructions: if it stays in the page, on to the group's
   * indirect dispatcher (which goes straight to a block starting there, if any). */
  indirect(retired: number): void {
    const w = this.w;
    w.get(L_EA).get(L_PCBASE).op(W.i64_xor).i64(12).op(W.i64_shr_u).op(W.i64_eqz);
    this.ifThen(() => {
      w.get(L_DONE).i32(retired).op(W.i32_add).set(L_DONE);
      w.get(L_EA).op(W.i32_wrap_i64).i32(4095).op(W.i32_and).set(L_T);
      w.i32(this.group.offs.length).set(P_CUR).op(W.br).u32(this.depth + this.dispatchDepth);
    });
  }

  /** The indirect dispatcher's code: page offset L_T (instructions already counted in L_DONE). */
  dispatcher(): void {
    const w = this.w;
    this.group.offs.forEach((target, j) => {
      w.get(L_T).i32(target).op(W.i32_eq);
      this.ifThen(() => this.goto(j, 0));
    });
    w.get(L_PCBASE).get(L_T).op(W.i64_extend_i32_u).op(W.i64_add);
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
    this.ifThen(() => this.exitAt(off, k, true));
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
        if (off + imm === e.startOff) { e.ends = true; e.looped = true; e.goto(e.index, k + 1); return true; }
        e.follow = off + imm;
        return true;
      }
      e.ends = true;
      // Target first: rd may be rs1 (jalr). JALR clears bit 0 (RV64I §2.5.1).
      if (op === Op.JAL) e.pc(off); else e.reg(r1);
      w.i64(imm).op(W.i64_add).i64(-2).op(W.i64_and).set(L_EA);
      e.pc(off + len); e.setReg(rd);
      if (op === Op.JALR) e.indirect(k + 1);
      w.get(L_EA);
      e.exit(k + 1, false);
      return true;
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      e.reg(r1); e.reg(r2); w.op(BRANCH_CMP[op]);
      e.ifThen(() => e.leave(off + imm, k + 1));
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
    case Op.MULH: case Op.MULHSU: case Op.MULHU:
      e.reg(r1); w.set(L_A); e.reg(r2); w.set(L_B);
      mulHigh(w, op);
      e.setReg(rd);
      return true;
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

/** High 64 bits of the 128-bit product of L_A and L_B (M extension §13.1: MULHU unsigned, MULH
 * signed, MULHSU signed x unsigned). WebAssembly 2.0 has no 64x64->128 multiply, so: the unsigned
 * product from 32-bit halves (a1:a0 * b1:b0, Hacker's Delight §8-2), then the signed corrections
 * hi(a*b) = hiu(a,b) - (a < 0 ? b : 0) - (b < 0 ? a : 0) (§8-3), all mod 2^64. */
function mulHigh(w: ByteWriter, op: number): void {
  const lo = (l: number) => w.get(l).op(W.i32_wrap_i64).op(W.i64_extend_i32_u);
  const hi = (l: number) => w.get(l).i64(32).op(W.i64_shr_u);
  lo(L_A); hi(L_B); w.op(W.i64_mul).set(L_C); // a0 * b1
  hi(L_A); lo(L_B); w.op(W.i64_mul).set(L_D); // a1 * b0
  // mid = hi(a0 * b0) + lo(a0 * b1) + lo(a1 * b0) < 3 * 2^32: no overflow.
  lo(L_A); lo(L_B); w.op(W.i64_mul).i64(32).op(W.i64_shr_u);
  lo(L_C); w.op(W.i64_add);
  lo(L_D); w.op(W.i64_add).set(L_E);
  hi(L_A); hi(L_B); w.op(W.i64_mul);
  hi(L_C); w.op(W.i64_add);
  hi(L_D); w.op(W.i64_add);
  hi(L_E); w.op(W.i64_add);
  if (op !== Op.MULHU) w.get(L_A).i64(63).op(W.i64_shr_s).get(L_B).op(W.i64_and).op(W.i64_sub);
  if (op === Op.MULH) w.get(L_B).i64(63).op(W.i64_shr_s).get(L_A).op(W.i64_and).op(W.i64_sub);
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

/** Emits block `index` of a group along its path; null if its first instruction does not
 * compile. The path and length never depend on the group, only the exits do. */
function emitBlock(env: WasmJitEnv, group: Group, index: number, slots: DecodedSlots, decodeAt: (i: number) => void): { e: Emitter; n: number } | null {
  const e = new Emitter(env, group, index);
  const { n, next } = walkBlockPath(slots, group.offs[index] >>> 1, decodeAt, e, (word, imm, k, off) => emit(e, word, imm, k, off));
  if (n === 0) return null;
  if (!e.ends) e.leave(next * 2, n);
  return { e, n };
}

/** Length of the block at slot `start` (its path, as jit.ts picks it), or 0 if none compiles. */
export function wasmBlockLength(env: WasmJitEnv, slots: DecodedSlots, start: number, decodeAt: (i: number) => void): number {
  const alone: Group = { starts: new Map(), lens: [MAX_BLOCK], offs: [start * 2] };
  return emitBlock(env, alone, 0, slots, decodeAt)?.n ?? 0;
}

/** The module of a group of blocks (slots `starts`, lengths `lens` from wasmBlockLength): one
 * function "run" (baseLo, baseHi, left, entry) that starts at block `entry` and dispatches. */
export function groupModule(env: WasmJitEnv, slots: DecodedSlots, starts: number[], lens: number[], decodeAt: (i: number) => void): Uint8Array {
  const group: Group = { starts: new Map(starts.map((s, j) => [s * 2, j])), lens, offs: starts.map((s) => s * 2) };
  const blocks = starts.map((_, j) => {
    const b = emitBlock(env, group, j, slots, decodeAt);
    if (b === null || b.n !== lens[j]) throw new Error(`wasm-jit: block at slot ${starts[j]} changed length`);
    return b.e;
  });
  const indirect = new Emitter(env, group, starts.length);
  indirect.dispatcher();
  blocks.push(indirect);
  const used = new Set<number>(), written = new Set<number>();
  for (const e of blocks) { for (const r of e.used) used.add(r); for (const r of e.written) written.add(r); }
  const code = new ByteWriter();
  // pcBase = baseHi:baseLo as i64.
  code.get(P_BASEHI).op(W.i64_extend_i32_u).i64(32).op(W.i64_shl).get(P_BASELO).op(W.i64_extend_i32_u).op(W.i64_or).set(L_PCBASE);
  for (const r of [...used].sort((p, q) => p - q)) code.i32(0).mem(W.i64_load, 3, env.regsAddr + 8 * r).set(L_X + r - 1);
  // block (exit) { block (exitAt) { loop (dispatch) { ...blocks... } } shared tail } epilogue
  code.op(W.block).byte(VOID).op(W.block).byte(VOID).op(W.loop).byte(VOID);
  for (let j = 0; j < blocks.length; j++) code.op(W.block).byte(VOID);
  // Dispatch (§5.4.1 br_table): label j is the end of the j-th innermost block, where block j's
  // code starts; the last one is the indirect dispatcher, also the default for a selector out of
  // range (the hart only passes indices it was given; that path would leave at the page base
  // with nothing retired, never trap).
  code.get(P_CUR).op(W.br_table).u32(blocks.length);
  for (let j = 0; j < blocks.length; j++) code.u32(j);
  code.u32(blocks.length - 1);
  for (const e of blocks) code.op(W.end).append(e.w);
  code.op(W.end).op(W.end);
  exitAtCode(code);
  code.op(W.end);
  for (const r of [...written].sort((p, q) => p - q)) code.i32(0).get(L_X + r - 1).mem(W.i64_store, 3, env.regsAddr + 8 * r);
  code.i32(0).get(L_NHI).mem(W.i32_store, 2, env.outAddr);
  code.i32(0).get(L_RET).mem(W.i32_store, 2, env.outAddr + 4);
  code.i32(0).get(L_SLOW).mem(W.i32_store, 2, env.outAddr + 8);
  code.get(L_NLO).op(W.end);
  return encodeModule([GROUP_TYPE], [{ type: 0, locals: [[I32_LOCALS, I32], [I64_LOCALS, I64]], code }], [['run', 0]]);
}
const GROUP_TYPE: FuncType = { params: [I32, I32, I32, I32], results: [I32] };

// Emitter.exitAt's code: page offset + 4096 in bits 0..13, instructions retired in bits 14..29,
// the slow flag in bit 30 (a non-negative int32, at most 5 bytes of LEB128).
const XOFF_BIAS = 4096, XOFF_BITS = 14, XRET_BITS = 16, XSLOW_SHIFT = XOFF_BITS + XRET_BITS;
function exitCode(off: number, retired: number, slow: boolean): number {
  const biased = off + XOFF_BIAS;
  if (biased < 0 || biased >= 1 << XOFF_BITS || retired < 0 || retired >= 1 << XRET_BITS) {
    throw new RangeError(`wasm-jit: exit to page offset ${off} after ${retired} instructions does not fit its code`);
  }
  return biased | (retired << XOFF_BITS) | ((slow ? 1 : 0) << XSLOW_SHIFT);
}

/** The i64 pc on the stack becomes the next pc's halves, L_NLO and L_NHI (via L_PC). */
function setNextPc(w: ByteWriter): void {
  w.tee(L_PC).op(W.i32_wrap_i64).set(L_NLO);
  w.get(L_PC).i64(32).op(W.i64_shr_u).op(W.i32_wrap_i64).set(L_NHI);
}

/** The shared exit path: what Emitter.exit does, for the pc, count and flag in L_XCODE. */
function exitAtCode(w: ByteWriter): void {
  w.get(L_PCBASE).get(L_XCODE).i32((1 << XOFF_BITS) - 1).op(W.i32_and).i32(XOFF_BIAS).op(W.i32_sub).op(W.i64_extend_i32_s).op(W.i64_add);
  setNextPc(w);
  w.get(L_DONE).get(L_XCODE).i32(XOFF_BITS).op(W.i32_shr_u).i32((1 << XRET_BITS) - 1).op(W.i32_and).op(W.i32_add).set(L_RET);
  w.get(L_XCODE).i32(XSLOW_SHIFT).op(W.i32_shr_u).set(L_SLOW);
}

/** Instantiates a group module; its function. (Modules are not kept for reuse by their bytes: a
 * cache of them found 7 of ~350 modules again in the P3 boot and kept every page's last module
 * alive, ~2 MiB at the init marker; issue 5.) */
function instantiateGroup(env: WasmJitEnv, bytes: Uint8Array): BlockFn {
  const t0 = monotonicMs();
  const module = new Wasm.Module(bytes);
  const t1 = monotonicMs();
  const instance = new Wasm.Instance(module, { m: { m: env.arena.memory } });
  wasmStats.moduleMs += t1 - t0;
  wasmStats.instanceMs += monotonicMs() - t1;
  wasmStats.modules++;
  wasmStats.bytes += bytes.length;
  return instance.exports.run as BlockFn;
}

/** A page's WebAssembly blocks: all of them, those in its current group module, and hot blocks
 * waiting for the next group build (slot -> how many times they asked). */
interface PageBlocks { all: number[]; grouped: number[]; waiting: Map<number, number> }
const pages = new WeakMap<JitPage, PageBlocks>();
/** How many times a hot block asks before its page's group is rebuilt for it anyway. */
const PATIENCE = 2;

/** Whether `blocks` blocks of `insns` instructions in all may form one group. */
function fitsGroup(blocks: number, insns: number): boolean {
  return blocks <= MAX_GROUP && insns <= MAX_GROUP_INSNS;
}

/**
 * Compiles the block at slot `start` of a page into `jp`; false if nothing is compiled there now.
 *
 * Batching (a module costs ~100 µs to compile and ~40 µs to instantiate however small it is,
 * measured in this Node): a page's first hot block gets a group module at once; later ones wait
 * (the slot stays untried, so the hart asks again after another JIT threshold of entries) until
 * the page has twice as many hot blocks as its current group, or one of them has asked PATIENCE
 * times; then the group is rebuilt with all of them if they fit (fitsGroup: MAX_GROUP blocks,
 * MAX_GROUP_INSNS instructions; otherwise the waiting ones get a group of their own). So a page's
 * blocks are compiled O(1) times each on average, in few modules.
 */
export function compileWasmBlock(jp: JitPage, env: WasmJitEnv, slots: DecodedSlots, start: number, decodeAt: (i: number) => void): boolean {
  const t0 = monotonicMs();
  try {
    return compileInto(jp, env, slots, start, decodeAt);
  } finally {
    wasmStats.ms += monotonicMs() - t0;
  }
}

function compileInto(jp: JitPage, env: WasmJitEnv, slots: DecodedSlots, start: number, decodeAt: (i: number) => void): boolean {
  const length = wasmBlockLength(env, slots, start, decodeAt);
  if (length === 0) {
    jp.slot[start] = NO_BLOCK;
    return false;
  }
  let page = pages.get(jp);
  if (page === undefined) pages.set(jp, (page = { all: [], grouped: [], waiting: new Map() }));
  const asks = (page.waiting.get(start) ?? 0) + 1;
  page.waiting.set(start, asks);
  const wanted = page.all.length + page.waiting.size;
  if (page.grouped.length > 0 && wanted < 2 * page.grouped.length && asks < PATIENCE) return false;
  // Build: the current group plus everything waiting if that fits (MAX_GROUP blocks,
  // MAX_GROUP_INSNS instructions); else a group of its own for as many waiting blocks as fit, the
  // asking one first (the others ask again later).
  const fresh = [start, ...[...page.waiting.keys()].filter((s) => s !== start)];
  page.waiting.clear();
  const lengthOf = new Map<number, number>([[start, length]]);
  for (const s of fresh) if (!lengthOf.has(s)) lengthOf.set(s, wasmBlockLength(env, slots, s, decodeAt));
  const lenOf = (s: number): number => lengthOf.get(s) ?? jp.lens[jp.slot[s] - 1];
  const compiles = (s: number): boolean => jp.slot[s] !== 0 || (lengthOf.get(s) ?? 0) > 0;
  const all = [...page.all, ...fresh].filter(compiles);
  const supersedes = fitsGroup(all.length, all.reduce((n, s) => n + lenOf(s), 0));
  let members = all;
  if (!supersedes) {
    members = [];
    let insns = 0;
    for (const s of fresh.filter(compiles)) {
      if (members.length > 0 && !fitsGroup(members.length + 1, insns + lenOf(s))) break;
      members.push(s);
      insns += lenOf(s);
    }
  }
  let fn: BlockFn;
  const lens = members.map(lenOf);
  const before = new Set(jp.fns);
  wasmStats.maxGroupInsns = Math.max(wasmStats.maxGroupInsns, lens.reduce((n, l) => n + l, 0));
  try {
    fn = instantiateGroup(env, groupModule(env, slots, members, lens, decodeAt));
  } catch {
    // Never expected (a module that does not validate, a host out of memory): the interpreter
    // runs the new blocks as before; the old group stays.
    for (const s of fresh) if (jp.slot[s] === 0) jp.slot[s] = NO_BLOCK;
    return false;
  }
  members.forEach((s, j) => {
    if (jp.slot[s] === 0) {
      jp.fns.push(fn);
      jp.lens.push(lens[j]);
      jp.entry.push(j);
      jp.slot[s] = jp.fns.length;
      page.all.push(s);
      wasmStats.blocks++;
    } else {
      jp.fns[jp.slot[s] - 1] = fn;
      jp.entry[jp.slot[s] - 1] = j;
    }
  });
  if (members.length >= page.grouped.length) page.grouped = members;
  // Modules whose every block now runs in the new one are garbage (a superseded group).
  const after = new Set(jp.fns);
  let released = 0;
  for (const f of before) if (!after.has(f)) released++;
  if (released > 0) releaseModules(env, released);
  return jp.slot[start] !== 0 && jp.slot[start] !== NO_BLOCK;
}
