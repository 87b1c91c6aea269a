/**
 * Block compiler: turns a run of pre-decoded instructions (decode.ts slots of one code page) into a
 * JavaScript function generated at run time (new Function), so a hot block runs as straight-line
 * JS with its register numbers, immediates and pc offsets as constants instead of going through
 * the interpreter's fetch/dispatch per instruction. The interpreter (hart.ts) stays the reference
 * implementation: a block only holds what the interpreter's inline paths do, and gives control back
 * at the first instruction that needs anything else, with the exact pc and retired count.
 *
 * A block starts at a halfword slot and holds up to MAX_BLOCK instructions of the same page:
 *   - integer ALU, LUI/AUIPC, M extension, NOP/FENCE (no-ops on this in-order, SC hart);
 *   - loads and stores through the load/store TLB hit path (tlb.ts), written as the interpreter's;
 *     a TLB miss, a page-crossing access (page offset > 4088), MMIO, a fault — anything the
 *     interpreter's slow path handles — ends the block *before* that instruction (a side exit);
 *   - conditional branches: taken = side exit to the target, not taken = the block goes on;
 *   - JAL / JALR end the block.
 * It ends before any other op (CSR, system, AMO, FP, illegal, CROSS_PAGE, EXIT_PAGE) and at the end
 * of the page. The interpreter enters a block only with at least `length` instructions of budget
 * left, so budget and instret are exactly the interpreter's; since a block returns to the
 * interpreter where the interpreter itself would still be inside the page (it checks interrupts and
 * stop requests only when it leaves a page), interrupts land on the same instruction with and
 * without compilation — the guest sees the same execution either way.
 *
 * Stores on a page holding decoded (hence possibly compiled) code never hit the store TLB (hart.ts
 * keeps such pages out of it), so a store into compiled code always takes the side exit, and the
 * interpreter's slow store path invalidates the page's decoded slots and its blocks together.
 *
 * A jal to another place in the same page is followed (the block goes on at its target), and a
 * branch or jal back to the block's first instruction loops inside the function while the budget
 * holds another whole pass. So a block is a path of at most MAX_BLOCK instructions; `length` is
 * that bound, and a loop pass is entered only with `length` instructions of budget left — the same
 * condition under which the interpreter would have entered the block again.
 *
 * When blocks are compiled (hart.ts JIT_THRESHOLD, KVM_RISCV_JIT_THRESHOLD) and switched off
 * (KVM_RISCV_JIT=0, hart.jit = false) is the hart's business; the interpreter looks a block up only
 * on entering a page, after a taken jump or branch inside it, and after a block returns, and chains
 * from block to block inside a page.
 *
 * Calling convention of a compiled block: fn(baseLo, baseHi, left) with the page's virtual base and
 * the instruction budget left; returns
 * the low 32 bits of the next pc and leaves in `out`: [0] = high 32 bits of the next pc, [1] =
 * instructions retired, [2] = 1 for a side exit at a slow memory access (the interpreter then runs
 * that instruction), else 0.
 */
import { Op } from './decode.js';
import { type DecodedSlots, SLOTS, slotImm, slotWord } from './decoded-slots.js';
import { div64, divu64, divuw, divw, mul64, mulh64, mulhsu64, mulhu64, r64, rem64, remu64, remuw, remw } from './int64.js';
import { TLB_MASK, type Tlb } from './tlb.js';

/** Most instructions in one block: bounds code size and the budget a block needs to be entered. */
export const MAX_BLOCK = 64;

/** `entry`: which block of its module a WebAssembly block function runs (wasm-jit.ts: one
 * function per page group); JS blocks ignore it. */
export type BlockFn = (baseLo: number, baseHi: number, left: number, entry: number) => number;

/** What a block closes over: the hart's register file and TLB arrays (stable for its lifetime). */
export interface JitEnv {
  readonly x: Int32Array;
  readonly ltlb: Tlb;
  readonly stlb: Tlb;
  readonly out: Int32Array;
  /** This hart's compiled blocks by source: a block recompiled after an invalidation (fence.i,
   * code patching elsewhere on its page) gets its old closure back, already warmed up and
   * optimised by V8, instead of a cold one. Bounded like the factory cache. */
  readonly closures: Map<string, BlockFn>;
}

/** The compiled blocks of one code page, created at its first compile and dropped with the page's
 * decoded slots (hart.ts). slot[i] = 0: not tried; NO_BLOCK: nothing compilable starts there;
 * else 1 + index into fns/lens. */
export class JitPage {
  readonly slot = new Uint16Array(SLOTS);
  readonly fns: BlockFn[] = [];
  readonly lens: number[] = [];
  /** The `entry` argument each block's function is called with. */
  readonly entry: number[] = [];
}
export const NO_BLOCK = 0xffff;

/** Process-wide counters for tests and benchmarks: blocks compiled, and new Function calls. */
export const jitStats = { blocks: 0, functions: 0 };

/** Compiled factories by generated source, shared by every hart and every page: a block that comes
 * back after an invalidation (fence.i, code patching) or on another hart costs no new compile. */
const factories = new Map<string, (...env: unknown[]) => BlockFn>();
const MAX_FACTORIES = 8192;
const HELPERS = { mul64, mulh64, mulhsu64, mulhu64, div64, divu64, rem64, remu64, divw, divuw, remw, remuw, r64 };

/** Source that yields pc (page base + off) into (lo, hi) expressions; off may be 4096 (next page). */
function pcExpr(off: number): { lo: string; hi: string } {
  if (off < 4096) return { lo: `(baseLo | ${off})`, hi: 'baseHi' };
  return { lo: '((baseLo + 4096) | 0)', hi: '(((baseLo >>> 0) + 4096 >= 4294967296 ? baseHi + 1 : baseHi) | 0)' };
}

/** Leave the block for pc (lo, hi) after `retired` more instructions of this pass. */
function exitTo(lo: string, hi: string, retired: number, slow: boolean): string {
  return `nlo = ${lo}; out[0] = ${hi}; out[1] = done + ${retired}; out[2] = ${slow ? 1 : 0}; break body;`;
}

/** A jump back to the block's own first instruction after `retired` instructions of this pass: go
 * round again inside the function if the budget allows another whole pass (the interpreter would
 * enter the block again under the same condition), else return there. */
function loopBack(retired: number): string {
  return `done += ${retired}; if (left - done >= ${LEN_MARK}) continue; nlo = baseLo | startOff; out[0] = baseHi; out[1] = done; out[2] = 0; break body;`;
}
const LEN_MARK = '$LEN$';

/** Where an instruction's emitter tells walkBlockPath to go on: the next slot, or a jump target
 * inside the page. Both compilers' emitters carry it (EmitState here, wasm-jit.ts Emitter). */
export interface PathState {
  /** The instruction ends the block. */
  ends: boolean;
  /** Byte offset to continue compiling at (a followed jal), or -1 for the next instruction. */
  follow: number;
}

/**
 * Walks the path of the block starting at slot `start`, the same for both compilers (header: up
 * to MAX_BLOCK instructions in the page, intra-page jal followed): `emitOne` emits one instruction
 * and returns false when it cannot compile it, setting `state.follow` / `state.ends` on the way.
 * Returns how many instructions were emitted and the slot after the last one (where the block
 * leaves when it does not end by itself).
 */
export function walkBlockPath(slots: DecodedSlots, start: number, decodeAt: (i: number) => void, state: PathState,
  emitOne: (word: number, imm: number, n: number, offset: number) => boolean): { n: number; next: number } {
  let i = start;
  let n = 0;
  while (i < SLOTS && n < MAX_BLOCK) {
    if (slots.index[i] === 0) decodeAt(i);
    const word = slotWord(slots, i);
    state.follow = -1;
    if (!emitOne(word, slotImm(slots, i), n, i * 2)) break;
    n++;
    i = state.follow >= 0 ? state.follow >>> 1 : i + ((word >>> 29) & 1 ? 1 : 2);
    if (state.ends) break;
  }
  return { n, next: i };
}

/** What emit() works with while blockSource walks a block's path. */
interface EmitState extends PathState {
  /** Byte offset of the block's first instruction. */
  readonly startOff: number;
  /** Register-file slots (lo/hi halves) the block touches, and those it writes: they live in
   * locals for the whole block, loaded on entry and written back on every way out. */
  readonly used: Set<number>;
  readonly written: Set<number>;
  /** Registers stay in the Int32Array (x[n]) instead of locals: cheaper for a block that runs its
   * path once per call, since locals cost a load and a store per register per call. */
  readonly direct: boolean;
  /** The block loops back to its start (then locals pay off). */
  looped: boolean;
}

/** A sum lo + imm (imm a constant) with the carry/borrow into hi; sets locals s, tlo, thi. */
function addrExpr(loSrc: string, hiSrc: string, imm: number): string {
  return `s = (${loSrc} >>> 0) + ${imm}; tlo = s | 0; thi = (${hiSrc} + (s >= 4294967296 ? 1 : s < 0 ? -1 : 0)) | 0;`;
}

/** JS for one instruction, or null when the block must end before it. `k` = instructions before it
 * in the block, `off` = its byte offset in the page. Sets `ends` when it ends the block. */
function emit(w: number, imm: number, k: number, off: number, state: EmitState): string | null {
  const op = w & 255;
  const rd = (w >>> 8) & 127, r1 = (w >>> 15) & 127, r2 = (w >>> 22) & 127;
  const len = (w >>> 29) & 1 ? 2 : 4;
  // x0 reads as the constant 0 (its slots are never written; writes to x0 go to RD_SINK).
  const use = (n: number): string => {
    if (n < 2) return '0';
    if (state.direct) return `x[${n}]`;
    state.used.add(n);
    return `R${n}`;
  };
  const a = use(r1), ah = use(r1 + 1), b = use(r2), bh = use(r2 + 1);
  const dst = rd < 2 ? 64 : rd; // a write to x0 is dropped: send it to the sink slot
  const d = use(dst), dh = use(dst + 1);
  const ihi = imm >> 31;
  const here = pcExpr(off);
  const sext = (e: string) => `r = ${e}; ${d} = r; ${dh} = r >> 31;`;
  const isBranch = op >= Op.BEQ && op <= Op.BGEU;
  const isStore = op >= Op.SB && op <= Op.SD;
  if (!isBranch && !isStore && op !== Op.NOP && op !== Op.FENCE) { state.written.add(dst); state.written.add(dst + 1); }
  switch (op) {
    case Op.NOP: case Op.FENCE: return '';
    case Op.LUI: return `${d} = ${imm}; ${dh} = ${ihi};`;
    case Op.AUIPC: return `${addrExpr(here.lo, here.hi, imm)} ${d} = tlo; ${dh} = thi;`;
    case Op.JAL: case Op.JALR: {
      const next = pcExpr(off + len);
      if (op === Op.JAL && off + imm >= 0 && off + imm < 4096) {
        // A jump inside the page: the block goes on at the target (the interpreter, too, stays in
        // the page without an interrupt check), or loops when the target is the block's start.
        const link = `${d} = ${next.lo}; ${dh} = ${next.hi};`;
        if (off + imm === state.startOff) { state.ends = true; state.looped = true; return `${link} ${loopBack(k + 1)}`; }
        state.follow = off + imm;
        return link;
      }
      state.ends = true;
      const target = op === Op.JAL ? addrExpr(here.lo, here.hi, imm) : addrExpr(a, ah, imm);
      // Target first: rd may be rs1 (jalr). The link is pc + len, the next page's base at the end.
      return `${target} ${d} = ${next.lo}; ${dh} = ${next.hi}; ${exitTo('tlo & -2', 'thi', k + 1, false)}`;
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      let cond: string;
      switch (op) {
        case Op.BEQ: cond = `${a} === ${b} && ${ah} === ${bh}`; break;
        case Op.BNE: cond = `${a} !== ${b} || ${ah} !== ${bh}`; break;
        case Op.BLT: cond = `${ah} < ${bh} || (${ah} === ${bh} && (${a} >>> 0) < (${b} >>> 0))`; break;
        case Op.BGE: cond = `${ah} > ${bh} || (${ah} === ${bh} && (${a} >>> 0) >= (${b} >>> 0))`; break;
        case Op.BLTU: cond = `(${ah} >>> 0) < (${bh} >>> 0) || (${ah} === ${bh} && (${a} >>> 0) < (${b} >>> 0))`; break;
        default: cond = `(${ah} >>> 0) > (${bh} >>> 0) || (${ah} === ${bh} && (${a} >>> 0) >= (${b} >>> 0))`; break;
      }
      if (off + imm === state.startOff) { state.looped = true; return `if (${cond}) { ${loopBack(k + 1)} }`; }
      return `if (${cond}) { ${addrExpr(here.lo, here.hi, imm)} ${exitTo('tlo', 'thi', k + 1, false)} }`;
    }
    case Op.LB: case Op.LH: case Op.LW: case Op.LD: case Op.LBU: case Op.LHU: case Op.LWU: {
      let load: string;
      switch (op) {
        case Op.LD: load = `${d} = v.getInt32(o, true); ${dh} = v.getInt32(o + 4, true);`; break;
        case Op.LW: load = sext('v.getInt32(o, true)'); break;
        case Op.LWU: load = `${d} = v.getInt32(o, true); ${dh} = 0;`; break;
        case Op.LH: load = sext('v.getInt16(o, true)'); break;
        case Op.LHU: load = `${d} = v.getUint16(o, true); ${dh} = 0;`; break;
        case Op.LB: load = sext('v.getInt8(o)'); break;
        default: load = `${d} = v.getUint8(o); ${dh} = 0;`; break;
      }
      return `${addrExpr(a, ah, imm)} t = (tlo >>> 12) & ${TLB_MASK}; po = tlo & 4095;
if (ltLo[t] !== (tlo & -4096) || ltHi[t] !== thi || po > 4088) { ${exitTo(here.lo, here.hi, k, true)} }
v = ltView[t]; o = ltOff[t] + po; ${load}`;
    }
    case Op.SB: case Op.SH: case Op.SW: case Op.SD: {
      let store: string;
      switch (op) {
        case Op.SD: store = `v.setInt32(o, ${b}, true); v.setInt32(o + 4, ${bh}, true);`; break;
        case Op.SW: store = `v.setInt32(o, ${b}, true);`; break;
        case Op.SH: store = `v.setInt16(o, ${b}, true);`; break;
        default: store = `v.setInt8(o, ${b});`; break;
      }
      return `${addrExpr(a, ah, imm)} t = (tlo >>> 12) & ${TLB_MASK}; po = tlo & 4095;
if (stLo[t] !== (tlo & -4096) || stHi[t] !== thi || po > 4088) { ${exitTo(here.lo, here.hi, k, true)} }
v = stView[t]; o = stOff[t] + po; ${store}`;
    }
    case Op.ADDI:
      return `r = ${a}; s = (r + ${imm}) | 0; ${dh} = (${ah} + ${ihi} + ((s >>> 0) < (r >>> 0) ? 1 : 0)) | 0; ${d} = s;`;
    case Op.SLTI:
      return `r = ${ah}; ${d} = r < ${ihi} || (r === ${ihi} && (${a} >>> 0) < ${imm >>> 0}) ? 1 : 0; ${dh} = 0;`;
    case Op.SLTIU:
      return `r = ${ah} >>> 0; ${d} = r < ${ihi >>> 0} || (r === ${ihi >>> 0} && (${a} >>> 0) < ${imm >>> 0}) ? 1 : 0; ${dh} = 0;`;
    case Op.XORI: return `${dh} = ${ah} ^ ${ihi}; ${d} = ${a} ^ ${imm};`;
    case Op.ORI: return `${dh} = ${ah} | ${ihi}; ${d} = ${a} | ${imm};`;
    case Op.ANDI: return `${dh} = ${ah} & ${ihi}; ${d} = ${a} & ${imm};`;
    case Op.SLLI:
      if (imm === 0) return `${dh} = ${ah}; ${d} = ${a};`;
      if (imm < 32) return `${dh} = (${ah} << ${imm}) | (${a} >>> ${32 - imm}); ${d} = ${a} << ${imm};`;
      return `${dh} = ${a} << ${imm - 32}; ${d} = 0;`;
    case Op.SRLI:
      if (imm === 0) return `${d} = ${a}; ${dh} = ${ah};`;
      if (imm < 32) return `${d} = (${a} >>> ${imm}) | (${ah} << ${32 - imm}); ${dh} = ${ah} >>> ${imm};`;
      return `${d} = ${ah} >>> ${imm - 32}; ${dh} = 0;`;
    case Op.SRAI:
      if (imm === 0) return `${d} = ${a}; ${dh} = ${ah};`;
      if (imm < 32) return `${d} = (${a} >>> ${imm}) | (${ah} << ${32 - imm}); ${dh} = ${ah} >> ${imm};`;
      return `${d} = ${ah} >> ${imm - 32}; ${dh} = ${ah} >> 31;`;
    case Op.SLL: case Op.SRL: case Op.SRA: {
      // Variable shifts: operands read into locals first (rd may be rs1 or rs2).
      const body = op === Op.SLL
        ? `if (r < 32) { ${dh} = (q << r) | (p >>> (32 - r)); ${d} = p << r; } else { ${dh} = p << (r - 32); ${d} = 0; }`
        : op === Op.SRL
          ? `if (r < 32) { ${d} = (p >>> r) | (q << (32 - r)); ${dh} = q >>> r; } else { ${d} = q >>> (r - 32); ${dh} = 0; }`
          : `if (r < 32) { ${d} = (p >>> r) | (q << (32 - r)); ${dh} = q >> r; } else { ${d} = q >> (r - 32); ${dh} = q >> 31; }`;
      return `r = ${b} & 63; p = ${a}; q = ${ah}; if (r === 0) { ${d} = p; ${dh} = q; } else ${body}`;
    }
    case Op.ADD:
      return `p = ${a}; s = (p + ${b}) | 0; ${dh} = (${ah} + ${bh} + ((s >>> 0) < (p >>> 0) ? 1 : 0)) | 0; ${d} = s;`;
    case Op.SUB:
      return `p = ${a}; q = ${b}; ${dh} = (${ah} - ${bh} - ((p >>> 0) < (q >>> 0) ? 1 : 0)) | 0; ${d} = (p - q) | 0;`;
    case Op.SLT:
      return `p = ${ah}; q = ${bh}; ${d} = p < q || (p === q && (${a} >>> 0) < (${b} >>> 0)) ? 1 : 0; ${dh} = 0;`;
    case Op.SLTU:
      return `p = ${ah} >>> 0; q = ${bh} >>> 0; ${d} = p < q || (p === q && (${a} >>> 0) < (${b} >>> 0)) ? 1 : 0; ${dh} = 0;`;
    case Op.XOR: return `${dh} = ${ah} ^ ${bh}; ${d} = ${a} ^ ${b};`;
    case Op.OR: return `${dh} = ${ah} | ${bh}; ${d} = ${a} | ${b};`;
    case Op.AND: return `${dh} = ${ah} & ${bh}; ${d} = ${a} & ${b};`;
    case Op.ADDIW: return sext(`(${a} + ${imm}) | 0`);
    case Op.SLLIW: return sext(`${a} << ${imm}`);
    case Op.SRLIW: return sext(`(${a} >>> ${imm}) | 0`);
    case Op.SRAIW: return sext(`${a} >> ${imm}`);
    case Op.ADDW: return sext(`(${a} + ${b}) | 0`);
    case Op.SUBW: return sext(`(${a} - ${b}) | 0`);
    case Op.SLLW: return sext(`${a} << (${b} & 31)`);
    case Op.SRLW: return sext(`(${a} >>> (${b} & 31)) | 0`);
    case Op.SRAW: return sext(`${a} >> (${b} & 31)`);
    case Op.MULW: return sext(`Math.imul(${a}, ${b})`);
    case Op.MUL:
      // Low 64 bits of the product from 16-bit halves plus the cross terms, as hart.ts.
      return `p = ${a}; q = ${b}; s = (p & 0xffff) * (q & 0xffff); r = (p >>> 16) * (q & 0xffff) + (p & 0xffff) * (q >>> 16) + (s >>> 16);
t = (p >>> 16) * (q >>> 16) + ((r / 65536) | 0) + Math.imul(p, ${bh}) + Math.imul(${ah}, q); ${d} = (r << 16) | (s & 0xffff); ${dh} = t | 0;`;
    case Op.MULH: case Op.MULHSU: case Op.MULHU: case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU: {
      const fn = { [Op.MULH]: 'mulh64', [Op.MULHSU]: 'mulhsu64', [Op.MULHU]: 'mulhu64', [Op.DIV]: 'div64', [Op.DIVU]: 'divu64', [Op.REM]: 'rem64', [Op.REMU]: 'remu64' }[op];
      return `h.${fn}(${a}, ${ah}, ${b}, ${bh}); ${d} = h.r64[0]; ${dh} = h.r64[1];`;
    }
    case Op.DIVW: return sext(`h.divw(${a}, ${b})`);
    case Op.DIVUW: return sext(`h.divuw(${a}, ${b})`);
    case Op.REMW: return sext(`h.remw(${a}, ${b})`);
    case Op.REMUW: return sext(`h.remuw(${a}, ${b})`);
    default:
      return null;
  }
}

export interface BlockSource {
  source: string;
  length: number;
  /** The block jumps back to its own start (a loop it runs inside the function). */
  looped: boolean;
}
/** KVM_RISCV_JIT_LOOPS=1: compile only blocks that loop back to their start (an experiment knob:
 * on Debian's kernel boot it compiles ~1/4 of the blocks for about the same time). */
const LOOPS_ONLY = typeof process !== 'undefined' && process.env.KVM_RISCV_JIT_LOOPS === '1';

/** Generated source of the block starting at `start`, or null if its first instruction cannot be
 * compiled. `decodeAt(i)` makes sure slot i is decoded (the interpreter's lazy decode). */
export function blockSource(slots: DecodedSlots, start: number, decodeAt: (i: number) => void, direct = false): BlockSource | null {
  const parts: string[] = [];
  const state: EmitState = { ends: false, follow: -1, startOff: start * 2, used: new Set(), written: new Set(), direct, looped: false };
  const { n, next: i } = walkBlockPath(slots, start, decodeAt, state, (word, imm, k, off) => {
    const code = emit(word, imm, k, off, state);
    if (code !== null) parts.push(code);
    return code !== null;
  });
  if (n === 0) return null;
  if (!direct && !state.looped) return { ...(blockSource(slots, start, decodeAt, true) as BlockSource), looped: false };
  if (!state.ends) {
    const next = pcExpr(i * 2);
    parts.push(exitTo(next.lo, next.hi, n, false));
  }
  const regSlots = [...state.used].sort((p, q) => p - q);
  const load = regSlots.map((k) => `R${k} = x[${k}]`).join(', ');
  // x0 (slots 0/1) is never written: writes to x0 go to the sink slot (decode.ts RD_SINK).
  const store = direct ? '' : [...state.written].sort((p, q) => p - q).map((k) => `x[${k}] = R${k};`).join(' ');
  const body = `const startOff = ${start * 2};\nlet nlo = 0${load ? ', ' + load : ''};\nbody: for (;;) {\n${parts.join('\n')}\n}\n${store}\nreturn nlo;`;
  return { source: body.split(LEN_MARK).join(String(n)), length: n, looped: state.looped };
}

/** Compiles (or reuses) the block starting at slot `start` of a page and records it in `jp`. */
export function compileBlock(jp: JitPage, env: JitEnv, slots: DecodedSlots, start: number, decodeAt: (i: number) => void): void {
  const block = blockSource(slots, start, decodeAt);
  if (block === null || (LOOPS_ONLY && !block.looped)) {
    jp.slot[start] = NO_BLOCK;
    return;
  }
  let fn = env.closures.get(block.source);
  if (fn === undefined) {
    fn = instantiate(block.source, env);
    if (env.closures.size >= MAX_FACTORIES) env.closures.clear();
    env.closures.set(block.source, fn);
  }
  jp.fns.push(fn);
  jp.lens.push(block.length);
  jp.entry.push(0);
  jp.slot[start] = jp.fns.length;
  jitStats.blocks++;
}

function instantiate(source: string, env: JitEnv): BlockFn {
  let factory = factories.get(source);
  if (factory === undefined) {
    if (factories.size >= MAX_FACTORIES) factories.clear(); // bound host memory; they come back on use
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- run-time code generation is the point
    factory = new Function('x', 'ltLo', 'ltHi', 'ltOff', 'ltView', 'stLo', 'stHi', 'stOff', 'stView', 'out', 'h',
      `'use strict'; return function block(baseLo, baseHi, left) {\nlet s = 0, tlo = 0, thi = 0, t = 0, po = 0, o = 0, r = 0, p = 0, q = 0, done = 0, v;\n${source}\n};`,
    ) as (...env: unknown[]) => BlockFn;
    factories.set(source, factory);
    jitStats.functions++;
  }
  const { x, ltlb, stlb, out } = env;
  return factory(x, ltlb.tagLo, ltlb.tagHi, ltlb.offset, ltlb.view, stlb.tagLo, stlb.tagHi, stlb.offset, stlb.view, out, HELPERS);
}
