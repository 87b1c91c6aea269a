/**
 * The emulated RISC-V hart: an RV64IMAC + Zicsr + Zifencei + Zicntr interpreter (with F/D state,
 * loads and stores; arithmetic in fpu.ts) running a KVM guest in S and U mode. See contract.ts for
 * the split with the software-KVM layer and where run() stops.
 *
 * Speed comes from:
 *   - a decode cache per physical code page (decode.ts, stored as decoded-slots.ts: a slot per
 *     halfword naming an entry of a dense pool), filled lazily; a page is invalidated (cleared,
 *     so it re-decodes) when this hart stores over one of its decoded instructions, and lazily
 *     after fence.i / flushCode() (a generation counter: a page from an older generation is
 *     checked when next entered, and cleared unless its decoded instructions are still in guest
 *     RAM, compared at most once per page per run()). Pages holding decoded code
 *     are never in the store TLB, so the slow store path is where invalidation happens (data
 *     stores elsewhere on such a page stay correct, just slower). Past codePageLimit pages, the
 *     least recently entered ones that no fetch TLB entry maps are forgotten (evictCodePages);
 *   - three direct-mapped software TLBs (tlb.ts) for fetch, load and store, checked inline;
 *   - 64-bit registers as lo/hi int32 pairs, with the pc kept as (page base, halfword index) inside
 *     a page so sequential execution never materialises it;
 *   - hot blocks compiled to WebAssembly (wasm-jit.ts; registers, TLBs and RAM in the VM's arena,
 *     arena.ts) or to JavaScript (jit.ts, KVM_RISCV_JIT=js), kept and dropped with the page's
 *     decoded slots; the interpreter stays the reference (test/emulator/diff-*.test.ts compare).
 *
 * Implementation choices the specs leave open (documented per the brief):
 *   - A/D bits are set by the page-table walk (mmu.ts).
 *   - The LR reservation (A extension §"LR/SC") is on a physical address and size; it is dropped by
 *     any SC, by every trap entry, by sret and when run() returns (so another hart scheduled in
 *     between can never be missed: SC may fail spuriously, never succeed wrongly).
 *   - Interrupts are checked whenever execution leaves the current code page or a CSR, sret, fence
 *     or trap changes state, and at the start of run(); setPending() is only called between runs.
 *   - AMOs and FP loads/stores to non-RAM raise access faults (PMA: no AMO/FP access to I/O), since
 *     KVM only emulates integer loads and stores for MMIO.
 *   - satp: Bare, Sv39 and Sv48 (no Sv57); ASIDLEN = 0, so satp writes and sfence.vma x0 drop
 *     every cached translation, sfence.vma with an address that page's. Entries are only made
 *     after the permission check for the current privilege, SUM and MXR: a privilege change parks
 *     the live entries and brings back the other mode's (swapTlbs), and clearing SUM or MXR drops
 *     the entries it had allowed (setting either withdraws nothing).
 *   - cycle reads the same count as instret; hpmcounters, Sstc and every M/H CSR are illegal.
 *   - RAM regions are multiples of 4 KiB (KVM memslots are), so a RAM page never straddles a region.
 */
import {
  type CsrAccess, type HartApi, type HartEnv, type MmioAccess, type RamRegion, StopReason,
  IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER,
} from './contract.js';
import {
  CAUSE_BREAKPOINT, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_LOAD_ACCESS, CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS, CAUSE_USER_ECALL, CSR_CYCLE, CSR_FCSR, CSR_FFLAGS,
  CSR_INSTRET, CSR_SEED, CSR_TIME, SSTATUS_FS, SSTATUS_FS_DIRTY, SSTATUS_SIE, SSTATUS_SPIE,
  SSTATUS_SPP,
} from './csr.js';
import { Amo, RD_SINK, decode32, decoded } from './decode.js';
import { type DecodedSlots, clearSlots, decodePageSlot, newDecodedSlots, setSlot, stillMatches } from './decoded-slots.js';
import { fpExecute } from './fpu.js';
import {
  div64, divu64, divuw, divw, mul64, mulh64, mulhsu64, mulhu64, r64, rem64, remu64, remuw, remw,
} from './int64.js';
import { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE, type AccessKind, type WalkContext, translate, walkResult } from './mmu.js';
import { RamMap } from './ram.js';
import { CHANGED_MXR_CLEARED, CHANGED_SATP, CHANGED_SUM_CLEARED, SupervisorCsrs } from './csr-file.js';
import { TLB_ARENA_BYTES, TLB_INVALID, TLB_MASK, Tlb, TlbSlotList } from './tlb.js';
import { JitPage, compileBlock, type JitEnv } from './jit.js';
import { COLLECT_AFTER_MODULES, compileWasmBlock, releaseModules, type WasmJitEnv } from './wasm-jit.js';
import { collectGarbage } from '../../../host/gc.js';
import { type Arena, fallbackArena, freeWhenCollected } from './arena.js';

/** Block entries seen before a block is compiled (jit.ts). High on purpose: a generated function
 * starts in V8's bytecode interpreter and is optimised only after many calls, so compiling
 * lukewarm code makes it slower than this (already optimised) interpreter. Measured on Debian's
 * kernel to the init marker: threshold 8 = 2.5x slower than no compilation, 255 = 2.2x, 4000 =
 * 1.3x, 30000 = about even; the P2 loop gains ~2x at any threshold. KVM_RISCV_JIT_THRESHOLD
 * overrides it (1..65535). */
const JIT_THRESHOLD = envNumber('KVM_RISCV_JIT_THRESHOLD', 30_000);
function envNumber(name: string, fallback: number): number {
  const v = typeof process === 'undefined' ? undefined : Number(process.env[name]);
  return v !== undefined && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : fallback;
}
/** Decoded code pages kept per hart before the least recently used are forgotten (evictCodePages):
 * ~7.5 KiB each (a 4 KiB slot index and a pool of 8-byte entries, ~3.4 KiB at the Linux boot's
 * init marker; decoded-slots.ts). Debian's kernel boot enters ~1430 code pages, ~600 of them after
 * its first half. Measured to the init marker (npm run bench:p3:memory, 3 runs each, peak beyond
 * guest RAM / seconds): 1024 -> 75.7-77.7 MiB / 3.38-3.43 s, 896 -> 74.7-75.3 / 3.32-3.46, 768 ->
 * 74.5-76.3 / 3.32-3.45, 640 -> 76.3-77.8 / 3.90-3.94, 512 -> 75.5-77.4 / 4.03-4.05: below ~700
 * the boot's working set no longer fits, pages and their blocks are decoded and compiled again and
 * again. KVM_RISCV_CODE_PAGES overrides it (64..65535). */
const CODE_PAGE_LIMIT = envRange('KVM_RISCV_CODE_PAGES', 896, 64);
function envRange(name: string, fallback: number, min: number): number {
  const v = typeof process === 'undefined' ? undefined : Number(process.env[name]);
  return v !== undefined && Number.isInteger(v) && v >= min && v <= 65535 ? v : fallback;
}
/** jit.ts NO_BLOCK, repeated as a file-local literal for the hot loop (imported bindings are not
 * constants under per-file transforms; test/emulator/jit-blocks.test.ts checks they agree). */
const NO_BLOCK = 0xffff;
/** Hotness counters, hashed by (physical page, slot), tagged (see isHot). */
const HEAT_SIZE = 1 << 16;
/** KVM_RISCV_JIT=0 in the environment turns block compilation off (differential testing);
 * KVM_RISCV_JIT=js picks the JavaScript block compiler (jit.ts), =wasm (the default) WebAssembly
 * (wasm-jit.ts). */
const JIT_ENV = typeof process === 'undefined' ? undefined : process.env.KVM_RISCV_JIT;
const JIT_DEFAULT = JIT_ENV !== '0';
export type JitMode = 'js' | 'wasm';
const JIT_MODE_DEFAULT: JitMode = JIT_ENV === 'js' ? 'js' : 'wasm';
/** Block entries before a WebAssembly compile (wasm-jit.ts). Measured with `npm run bench:p3 --
 * --jit on --runs 3` (Debian's kernel to the init marker, median s, quiet 2-core host):
 * threshold 1500 5.23, 3000 4.88/4.93, 5000 4.90/4.96, 10000 5.12/5.22, 20000 5.56 (interpreter
 * 8.1); lower thresholds compile thousands of lukewarm blocks whose modules (~0.1 ms each, plus
 * V8's lazy compile and tier-up on background threads) cost more than they save, higher ones
 * leave warm code to the interpreter. KVM_RISCV_JIT_THRESHOLD overrides it. */
const WASM_JIT_THRESHOLD = envNumber('KVM_RISCV_JIT_THRESHOLD', 5_000);
/** Where a hart's block state sits in its arena block (byte offsets): the register file (66
 * int32), the three jitOut words, the load and the store TLB arrays. */
const ARENA_REGS = 0, ARENA_OUT = 288, ARENA_LTLB = 512, ARENA_STLB = ARENA_LTLB + TLB_ARENA_BYTES;
const ARENA_BYTES = ARENA_STLB + TLB_ARENA_BYTES;

/**
 * The op numbering of decode.ts, repeated here on purpose: esbuild's per-file transform (vitest,
 * tsx-style loaders) inlines a const enum only inside the module that declares it, and the
 * interpreter's switch needs literal case labels to become a jump table (measured: 2.4 MIPS with
 * imported labels, ~55 MIPS with local ones under vitest). tsc and bundlers inline either way.
 * test/emulator/cpu-alu.test.ts checks that both declarations agree.
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

/** Halfword slots per 4 KiB page (decoded-slots.ts SLOTS, a literal for the hot loop). */
const SLOTS = 2048;

/** The one-instruction page a 32-bit instruction straddling two pages runs from (fetchCrossPage):
 * every slot is EXIT_PAGE (one shared entry) but the last, which holds the instruction. */
function crossPageSlots(): DecodedSlots {
  const t = newDecodedSlots();
  setSlot(t, SLOTS - 1, Op.EXIT_PAGE, 0); // fetchCrossPage puts each straddling instruction here
  setSlot(t, 0, Op.EXIT_PAGE, 0);
  t.index.fill(t.index[0], 1, SLOTS - 1);
  return t;
}

/** A pre-decoded physical page of guest code: its decoded slots (decoded-slots.ts) and where the
 * page is. */
interface CodePage extends DecodedSlots {
  readonly view: DataView;
  readonly region: number;
  /** Byte offset of the page in its region. */
  readonly offset: number;
  /** True while some slot is decoded (then the page is kept out of the store TLB). */
  live: boolean;
  /** The hart's code generation this page was last validated in (see flushCode). */
  gen: number;
  /** codeEpoch() when the page was made or last compared with guest RAM. */
  checked: number;
  /** Compiled blocks (jit.ts); dropped whenever the decoded slots are. After a flushCode() (Linux
   * issues fence.i whenever it maps executable pages) both are kept when every decoded slot still
   * holds the instruction it was decoded from (decoded-slots.ts stillMatches), instead of being
   * decoded and compiled again. */
  jit: JitPage | null;
}

/**
 * The TLB entries of the privilege mode not running, parked so that a trap or sret swaps the two
 * sets instead of flushing (priv spec §4.3.1: U and S see different permissions on the same page,
 * so an entry is only good for the mode whose checks it passed). `valid` is false while the set
 * holds nothing usable (after a flush, or once it was moved back into the live TLBs).
 */
interface ParkedTlbs {
  valid: boolean;
  readonly itlb: Tlb;
  readonly ltlb: Tlb;
  readonly stlb: Tlb;
  readonly fetchPages: CodePage[];
}

/** What a slow-path helper tells the interpreter loop. */
const enum Flow {
  /** Done; carry on with the next instruction. */
  Next = 0,
  /** State changed (trap taken, pc moved, CSR written): resume from this.pcLo/pcHi. */
  Resync = 1,
  /** run() must return this.stopReason. */
  Stop = 2,
}

const TWO_32 = 4294967296;
const EMPTY_VIEW = new DataView(new ArrayBuffer(8));

/** 64-bit two's complement (lo, hi) to an unsigned bigint. */
function toU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export class Hart implements HartApi {
  readonly hartId: number;
  /** x0..x31 as lo/hi pairs (contract layout), a view of `regs`. */
  readonly x: Int32Array;
  readonly f: Int32Array;
  instret = 0;
  mmio: MmioAccess = { address: 0n, length: 1, isWrite: false, data: 0n, rd: 0, signed: false, insnLength: 4 };
  csrExit: CsrAccess = { csrNum: 0, newValue: 0n, writeMask: 0n, rd: 0 };
  stopRequested = false;
  /** The guest has Zkr: `seed` accesses stop with StopReason.CsrExit instead of trapping. */
  zkr = false;
  /** Compile hot blocks to JS (jit.ts). Off: the pure interpreter, which must behave identically. */
  jit = JIT_DEFAULT;
  /** Which compiler `jit` uses: 'wasm' needs this hart's block state in an arena (always true
   * unless the arena could not be allocated, then it acts as 'js'). */
  jitMode: JitMode = JIT_MODE_DEFAULT;
  /** Block entries before compiling (tests use 1 to compile everything at once). */
  jitThreshold = JIT_MODE_DEFAULT === 'wasm' ? WASM_JIT_THRESHOLD : JIT_THRESHOLD;
  /** Decoded code pages kept before the least recently entered are forgotten (evictCodePages). */
  codePageLimit = CODE_PAGE_LIMIT;

  /** Decoded code pages held now (a statistic for tests and benchmarks). */
  get codePageCount(): number {
    return this.codeUse.size;
  }
  /** Blocks compiled so far (a statistic for tests and benchmarks). */
  jitCompiled = 0;

  private readonly env: HartEnv;
  /** x0..x31 plus a sink slot (index 64/65) for instructions that write x0. */
  private readonly regs: Int32Array;
  private readonly fpState: { f: Int32Array; fcsr: number };
  private pcLo = 0;
  private pcHi = 0;
  /** 1 = S, 0 = U; see the `mode` accessor. */
  private priv = 1;

  private readonly csrs: SupervisorCsrs;

  private readonly ram = new RamMap();
  private readonly walk: WalkContext;
  private readonly itlb = new Tlb(EMPTY_VIEW);
  private readonly ltlb: Tlb;
  private readonly stlb: Tlb;
  /** Load/store TLB slots filled in S mode for U pages (allowed by sstatus.SUM), and load TLB
   * slots filled for execute-only pages (allowed by sstatus.MXR): what clearing that bit drops. */
  private readonly sumSlots = new TlbSlotList();
  private readonly mxrSlots = new TlbSlotList();
  /** Parked TLB sets, indexed by privilege (1 = S, 0 = U); made at the first mode change. */
  private parked: ParkedTlbs[] | null = null;
  /** The arena holding regs, jitOut and the load/store TLBs (null: none could be had). */
  private readonly arena: Arena | null;
  /** Per RAM region: its address in this hart's arena, or 0 when compiled code must not touch it
   * directly (not in the arena, or not provably the same memory). */
  private ramAddr: number[] = [];
  private readonly fetchPages: CodePage[];
  private codePages: (CodePage | undefined)[][] = [];
  /** One bit per RAM page: set while codePages has a page there. Stores ask it first (codePageAt):
   * codePages is sparse, so V8 keeps it as a dictionary, several times slower to probe. */
  private codeBits: Uint8Array[] = [];
  /** Every page in codePages, least recently entered through a fetch-TLB fill first (a Map keeps
   * insertion order; a fill moves its page to the end). See evictCodePages. */
  private readonly codeUse = new Map<CodePage, true>();
  /** Forgotten pages whose arrays the next new pages reuse (nothing else refers to them). */
  private readonly spareCode: CodePage[] = [];
  /** Bumped by flushCode(); a page from an older generation is cleared when next entered, so
   * fence.i costs O(1) however much code is cached. */
  private codeGen = 0;
  /** Counts run() calls: guest RAM changes under this hart only through its own stores during one
   * (see the page check in run()). */
  private runSerial = 0;

  /** Changes whenever guest RAM may have changed other than by this hart's stores: at each run()
   * and each A/D update of the walker (both counters only grow, so their sum changes with each). */
  private codeEpoch(): number {
    return this.runSerial + this.walk.pteWrites;
  }
  /** One-instruction page for a 32-bit instruction straddling two pages. */
  private readonly crossSlots = crossPageSlots();

  private readonly heat = new Uint16Array(HEAT_SIZE);
  private readonly heatTag = new Float64Array(HEAT_SIZE).fill(-1);
  private readonly jitOut: Int32Array;
  private readonly jitEnv: JitEnv;
  private readonly wasmEnv: WasmJitEnv | null;

  private resValid = false;
  private resAddr = 0;
  private resSize = 0;

  private stopReason: StopReason = StopReason.Budget;
  /** Traps taken in the current slice (they use budget but retire nothing). */
  private nonRetired = 0;
  /** Instructions retired in the current slice before the one executing (for cycle/instret). */
  private sliceRetired = 0;
  // Slow-path results.
  private vLo = 0;
  private vHi = 0;
  private readonly cross = new Uint8Array(16);

  /** `arena`: the VM's (vm.ts); without one the hart takes a block of a process-wide arena. */
  constructor(hartId: number, env: HartEnv, arena?: Arena) {
    this.hartId = hartId;
    this.env = env;
    let home: Arena | null = arena ?? null;
    let at = home === null ? -1 : home.alloc(ARENA_BYTES);
    if (at < 0) {
      try {
        home = fallbackArena();
        at = home.alloc(ARENA_BYTES);
        if (at > 0) freeWhenCollected(this, home, at, ARENA_BYTES);
      } catch {
        at = -1; // no WebAssembly memory at all: plain arrays, JS blocks only
      }
    }
    if (home !== null && at > 0) {
      this.arena = home;
      this.regs = home.int32(at + ARENA_REGS, 66);
      this.jitOut = home.int32(at + ARENA_OUT, 3);
      this.ltlb = new Tlb(EMPTY_VIEW, home.int32(at + ARENA_LTLB, TLB_ARENA_BYTES / 4));
      this.stlb = new Tlb(EMPTY_VIEW, home.int32(at + ARENA_STLB, TLB_ARENA_BYTES / 4));
      this.wasmEnv = {
        arena: home, regsAddr: at + ARENA_REGS, outAddr: at + ARENA_OUT, ltlbAddr: at + ARENA_LTLB, stlbAddr: at + ARENA_STLB,
        collect: collectGarbage, collectAfter: COLLECT_AFTER_MODULES, released: 0,
      };
    } else {
      this.arena = null;
      this.regs = new Int32Array(66);
      this.jitOut = new Int32Array(3);
      this.ltlb = new Tlb(EMPTY_VIEW);
      this.stlb = new Tlb(EMPTY_VIEW);
      this.wasmEnv = null;
    }
    this.x = this.regs.subarray(0, 64);
    this.f = new Int32Array(64);
    this.fpState = { f: this.f, fcsr: 0 };
    this.csrs = new SupervisorCsrs(this.fpState);
    this.walk = { ram: this.ram, satpMode: 0, satpPpn: 0, priv: 1, sum: false, mxr: false, pteWrites: 0 };
    const placeholder: CodePage = {
      ...this.crossSlots, view: EMPTY_VIEW, region: -1, offset: -1, live: false, gen: 0, checked: 0, jit: null,
    };
    this.jitEnv = { x: this.regs, ltlb: this.ltlb, stlb: this.stlb, out: this.jitOut, closures: new Map() };
    this.fetchPages = new Array<CodePage>(TLB_MASK + 1).fill(placeholder);
    this.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // API for the hypervisor

  get pc(): bigint {
    return toU64(this.pcLo, this.pcHi);
  }

  set pc(value: bigint) {
    this.pcLo = Number(BigInt.asIntN(32, value));
    this.pcHi = Number(BigInt.asIntN(32, value >> 32n));
  }

  /** Privilege mode (ONE_REG core.mode): 1 = S, 0 = U. */
  get mode(): number {
    return this.priv;
  }

  set mode(value: number) {
    this.setMode(value === 0 ? 0 : 1);
  }

  get fcsr(): number {
    return this.fpState.fcsr;
  }

  set fcsr(value: number) {
    this.fpState.fcsr = value & 0xff;
  }

  setRam(regions: RamRegion[]): void {
    this.ram.set(regions);
    this.ramAddr = regions.map((r) => this.arenaAddressOf(r));
    this.codePages = regions.map(() => []);
    this.codeBits = regions.map((g) => new Uint8Array(Math.ceil(g.size / 4096 / 8)));
    this.codeUse.clear();
    this.spareCode.length = 0;
    this.flushTlb();
  }

  /** The region's arena address if compiled code may access it there: it claims this hart's arena,
   * and its bytes and view really are that memory at that address (a copied or rebuilt region
   * that kept the fields would otherwise let compiled code write somewhere else). */
  private arenaAddressOf(r: RamRegion): number {
    const arena = this.arena, addr = r.arenaAddr;
    if (arena === null || r.arena !== arena || addr === undefined || !Number.isInteger(addr) || addr <= 0) return 0;
    if (!arena.owns(r.bytes.buffer) || r.bytes.byteOffset !== addr || r.bytes.byteLength < r.size) return 0;
    if (r.view.buffer !== r.bytes.buffer || r.view.byteOffset !== addr || r.view.byteLength < r.size) return 0;
    if (r.size % 4096 !== 0 || addr % 4096 !== 0) return 0;
    return addr;
  }

  getX(n: number): bigint {
    if (n <= 0 || n > 31) return 0n;
    return toU64(this.regs[2 * n], this.regs[2 * n + 1]);
  }

  setX(n: number, value: bigint): void {
    if (n <= 0 || n > 31) return;
    this.regs[2 * n] = Number(BigInt.asIntN(32, value));
    this.regs[2 * n + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  getF(n: number): bigint {
    return toU64(this.f[2 * n], this.f[2 * n + 1]);
  }

  setF(n: number, bits: bigint): void {
    this.f[2 * n] = Number(BigInt.asIntN(32, bits));
    this.f[2 * n + 1] = Number(BigInt.asIntN(32, bits >> 32n));
  }

  getCsr(num: number): bigint {
    if (!this.readCsr(num)) throw new RangeError(`getCsr: CSR 0x${num.toString(16)} is not a supervisor CSR this hart has`);
    return toU64(this.vLo, this.vHi);
  }

  setCsr(num: number, value: bigint): void {
    if (!this.readCsr(num) || this.isReadOnlyCsr(num)) {
      throw new RangeError(`setCsr: CSR 0x${num.toString(16)} is not a writable supervisor CSR of this hart`);
    }
    this.writeCsr(num, Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n)));
  }

  setPending(bit: number, level: boolean): void {
    if (bit !== IRQ_S_SOFT && bit !== IRQ_S_TIMER && bit !== IRQ_S_EXT) {
      throw new RangeError(`setPending: bit ${bit} is not SSIP, STIP or SEIP`);
    }
    if (level) this.csrs.sip |= 1 << bit;
    else this.csrs.sip &= ~(1 << bit);
  }

  interruptPending(): boolean {
    return (this.csrs.sip & this.csrs.sie) !== 0;
  }

  flushTlb(): void {
    this.itlb.flush();
    this.ltlb.flush();
    this.stlb.flush();
    this.sumSlots.clear();
    this.mxrSlots.clear();
    if (this.parked !== null) this.parked[0].valid = this.parked[1].valid = false;
  }

  /** After a load/store TLB fill at slot t from a walk: list the slot under what allowed it. */
  private noteDataFill(t: number): void {
    if (walkResult.user && this.priv === 1) this.sumSlots.add(t);
    if (walkResult.viaMxr) this.mxrSlots.add(t);
  }

  /** Drop the cached translations of the 4 KiB virtual page holding (lo, hi). */
  private flushTlbPage(lo: number, hi: number): void {
    this.itlb.flushPage(lo, hi);
    this.ltlb.flushPage(lo, hi);
    this.stlb.flushPage(lo, hi);
    const other = this.parked?.[this.priv ^ 1];
    if (other?.valid) {
      other.itlb.flushPage(lo, hi);
      other.ltlb.flushPage(lo, hi);
      other.stlb.flushPage(lo, hi);
    }
  }

  flushCode(): void {
    this.codeGen++;
  }

  reset(): void {
    this.regs.fill(0);
    this.f.fill(0);
    this.fpState.fcsr = 0;
    this.pcLo = 0;
    this.pcHi = 0;
    this.priv = 1;
    this.instret = 0;
    this.csrs.reset();
    this.syncWalkContext();
    this.resValid = false;
    this.stopRequested = false;
    this.flushTlb();
    this.flushCode();
  }

  completeMmio(value?: bigint): void {
    const m = this.mmio;
    if (!m.isWrite && value !== undefined && m.rd !== 0) {
      const bits = m.length * 8;
      const v = m.signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
      this.setX(m.rd, v);
    }
    this.advancePc(m.insnLength);
  }

  completeCsr(value: bigint): void {
    if (this.csrExit.rd !== 0) this.setX(this.csrExit.rd, value);
    this.advancePc(4);
  }

  // ---------------------------------------------------------------------------------------------
  // The interpreter

  run(budget: number): StopReason {
    if (!(budget >= 0) || !Number.isSafeInteger(budget)) {
      throw new RangeError(`run: budget must be a non-negative safe integer, got ${budget}`);
    }
    this.runSerial++;
    const x = this.regs;
    const ltlb = this.ltlb, stlb = this.stlb, itlb = this.itlb;
    const ltLo = ltlb.tagLo, ltHi = ltlb.tagHi, ltOff = ltlb.offset, ltView = ltlb.view;
    const stLo = stlb.tagLo, stHi = stlb.tagHi, stOff = stlb.offset, stView = stlb.view;
    const itLo = itlb.tagLo, itHi = itlb.tagHi;
    let left = budget;
    let reason: StopReason = StopReason.Budget;
    this.nonRetired = 0;
    const jit = this.jit, jout = this.jitOut;

    outer: for (;;) {
      if (this.stopRequested) { reason = StopReason.Requested; break; }
      if (left <= 0) { reason = StopReason.Budget; break; }
      // Interrupts (priv spec §4.1.3): S-level interrupts are enabled in U mode or with SIE.
      if ((this.csrs.sip & this.csrs.sie) !== 0 && (this.priv === 0 || (this.csrs.sstatus & SSTATUS_SIE) !== 0)) {
        this.takeInterrupt();
        left--;
        continue;
      }
      const pcLo = this.pcLo, pcHi = this.pcHi;
      const baseLo = pcLo & -4096, baseHi = pcHi;
      const ft = (pcLo >>> 12) & TLB_MASK;
      let page: CodePage;
      if (itLo[ft] === baseLo && itHi[ft] === baseHi) {
        page = this.fetchPages[ft];
      } else {
        const flow = this.fetchMiss(pcLo, pcHi);
        if (flow === Flow.Stop) { reason = this.stopReason; break; }
        if (flow === Flow.Resync) { left--; continue; }
        page = this.fetchPages[ft];
      }
      if (page.gen !== this.codeGen) {
        // A flushCode() since this page last ran: its decoded instructions (and compiled blocks)
        // stay only if the page still holds exactly the instructions they were decoded from. Only
        // writes by others need the compare (this hart's own stores into decoded code drop it at
        // once: the store slow path), and others write guest RAM only between run() calls (other
        // harts' slices, devices, the host): a page compared since this run() began still matches,
        // unless the page-table walker has set A/D bits since (writes that are not stores).
        const epoch = this.codeEpoch();
        if (page.checked !== epoch && !this.codeUnchanged(page)) this.dropCode(page);
        page.gen = this.codeGen;
        page.checked = epoch;
      }
      // Slot i's instruction: word pool[index[i]], immediate the next int32 (decoded-slots.ts);
      // pool is reloaded after anything that may decode (it is replaced when it grows).
      let index = page.index, pool = page.pool;
      let i = (pcLo & 4095) >>> 1;
      // Look for a compiled block at i: on entering a page, after a taken jump or branch inside it,
      // and after a block returns (jit.ts). Sequential execution never looks.
      let probe = jit;

      while (i < SLOTS) {
        if (left <= 0) break;
        if (probe) {
          probe = false;
          const jp = page.jit;
          let k = jp === null ? 0 : jp.slot[i];
          if (k !== 0 && k !== NO_BLOCK) {
            const fns = (jp as JitPage).fns, lens = (jp as JitPage).lens, slot = (jp as JitPage).slot, entry = (jp as JitPage).entry;
            if (left >= lens[k - 1]) {
              // Chain from block to block inside the page while each next one is compiled and fits
              // the budget (the page's blocks cannot change meanwhile: a store into code is a side
              // exit, and fence.i is not compiled).
              let nlo: number, nhi: number;
              for (;;) {
                // left is passed as an int32 to WebAssembly blocks: a budget above 2^31 - 1 only
                // means fewer loop passes per call.
                nlo = fns[k - 1](baseLo, baseHi, left < 0x7fffffff ? left : 0x7fffffff, entry[k - 1]);
                left -= jout[1];
                nhi = jout[0];
                if ((nlo & -4096) !== baseLo || nhi !== baseHi) break;
                i = (nlo & 4095) >>> 1;
                if (jout[2] !== 0) break;
                k = slot[i];
                if (k === 0) { probe = true; break; }
                if (k === NO_BLOCK || left < lens[k - 1]) break;
              }
              if ((nlo & -4096) === baseLo && nhi === baseHi) continue;
              this.pcLo = nlo; this.pcHi = nhi;
              continue outer;
            }
          } else if (k === 0 && index === page.index && this.isHot(page, i)) {
            this.compileAt(page, i);
            pool = page.pool;
            probe = true;
            continue;
          }
        }
        left--;
        const e = index[i];
        const w = pool[e];
        const imm = pool[e + 1];
        const rd = (w >>> 8) & 127, r1 = (w >>> 15) & 127, r2 = (w >>> 22) & 127;
        switch (w & 255) {
          case Op.UNDECODED:
            left++;
            this.decodeSlot(page, i);
            pool = page.pool;
            continue;
          case Op.NOP:
          case Op.FENCE:
            break;
          case Op.LUI:
            x[rd] = imm; x[rd + 1] = imm >> 31;
            break;
          case Op.AUIPC: {
            const s = ((baseLo | (i << 1)) >>> 0) + imm;
            x[rd] = s | 0;
            x[rd + 1] = (baseHi + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            break;
          }
          case Op.JAL:
          case Op.JALR: {
            const pcl = baseLo | (i << 1);
            let s: number, thi: number;
            if ((w & 255) === Op.JAL) {
              s = (pcl >>> 0) + imm;
              thi = (baseHi + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            } else {
              s = (x[r1] >>> 0) + imm;
              thi = (x[r1 + 1] + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            }
            const tlo = s & -2;
            const link = (pcl >>> 0) + 4 - ((w >>> 28) & 2); // compressed: +2
            x[rd] = link | 0;
            x[rd + 1] = (baseHi + (link >= TWO_32 ? 1 : 0)) | 0;
            if ((tlo & -4096) === baseLo && thi === baseHi) { i = (tlo & 4095) >>> 1; probe = jit; continue; }
            this.pcLo = tlo; this.pcHi = thi;
            continue outer;
          }
          case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
            const alo = x[r1], ahi = x[r1 + 1], blo = x[r2], bhi = x[r2 + 1];
            let taken: boolean;
            switch (w & 255) {
              case Op.BEQ: taken = alo === blo && ahi === bhi; break;
              case Op.BNE: taken = alo !== blo || ahi !== bhi; break;
              case Op.BLT: taken = ahi < bhi || (ahi === bhi && (alo >>> 0) < (blo >>> 0)); break;
              case Op.BGE: taken = ahi > bhi || (ahi === bhi && (alo >>> 0) >= (blo >>> 0)); break;
              case Op.BLTU: taken = (ahi >>> 0) < (bhi >>> 0) || (ahi === bhi && (alo >>> 0) < (blo >>> 0)); break;
              default: taken = (ahi >>> 0) > (bhi >>> 0) || (ahi === bhi && (alo >>> 0) >= (blo >>> 0)); break;
            }
            if (!taken) break;
            const s = ((baseLo | (i << 1)) >>> 0) + imm;
            const tlo = s | 0;
            const thi = (baseHi + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            if ((tlo & -4096) === baseLo && thi === baseHi) { i = (tlo & 4095) >>> 1; probe = jit; continue; }
            this.pcLo = tlo; this.pcHi = thi;
            continue outer;
          }

          // Loads: inline TLB hit path, else loadSlow (TLB fill, page crossing, MMIO, faults).
          case Op.LB: case Op.LH: case Op.LW: case Op.LD: case Op.LBU: case Op.LHU: case Op.LWU: {
            const s = (x[r1] >>> 0) + imm;
            const lo = s | 0;
            const hi = (x[r1 + 1] + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            const t = (lo >>> 12) & TLB_MASK;
            const po = lo & 4095;
            const op = w & 255;
            if (ltLo[t] === (lo & -4096) && ltHi[t] === hi && po <= 4088) {
              const v = ltView[t], o = ltOff[t] + po;
              switch (op) {
                case Op.LD: x[rd] = v.getInt32(o, true); x[rd + 1] = v.getInt32(o + 4, true); break;
                case Op.LW: { const r = v.getInt32(o, true); x[rd] = r; x[rd + 1] = r >> 31; break; }
                case Op.LWU: x[rd] = v.getInt32(o, true); x[rd + 1] = 0; break;
                case Op.LH: { const r = v.getInt16(o, true); x[rd] = r; x[rd + 1] = r >> 31; break; }
                case Op.LHU: x[rd] = v.getUint16(o, true); x[rd + 1] = 0; break;
                case Op.LB: { const r = v.getInt8(o); x[rd] = r; x[rd + 1] = r >> 31; break; }
                default: x[rd] = v.getUint8(o); x[rd + 1] = 0; break;
              }
            } else {
              this.pcLo = baseLo | (i << 1); this.pcHi = baseHi;
              const size = op === Op.LD ? 8 : op === Op.LW || op === Op.LWU ? 4 : op === Op.LH || op === Op.LHU ? 2 : 1;
              const signed = op === Op.LB || op === Op.LH || op === Op.LW || op === Op.LD;
              const flow = this.loadSlow(lo, hi, size, signed, w, false);
              if (flow !== Flow.Next) {
                if (flow === Flow.Stop) { left++; reason = this.stopReason; break outer; }
                continue outer;
              }
              x[rd] = this.vLo; x[rd + 1] = this.vHi;
            }
            break;
          }
          case Op.SB: case Op.SH: case Op.SW: case Op.SD: {
            const s = (x[r1] >>> 0) + imm;
            const lo = s | 0;
            const hi = (x[r1 + 1] + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
            const t = (lo >>> 12) & TLB_MASK;
            const po = lo & 4095;
            const op = w & 255;
            if (stLo[t] === (lo & -4096) && stHi[t] === hi && po <= 4088) {
              const v = stView[t], o = stOff[t] + po;
              switch (op) {
                case Op.SD: v.setInt32(o, x[r2], true); v.setInt32(o + 4, x[r2 + 1], true); break;
                case Op.SW: v.setInt32(o, x[r2], true); break;
                case Op.SH: v.setInt16(o, x[r2], true); break;
                default: v.setInt8(o, x[r2]); break;
              }
            } else {
              this.pcLo = baseLo | (i << 1); this.pcHi = baseHi;
              const size = op === Op.SD ? 8 : op === Op.SW ? 4 : op === Op.SH ? 2 : 1;
              const flow = this.storeSlow(lo, hi, size, x[r2], x[r2 + 1], w, false);
              if (flow !== Flow.Next) {
                if (flow === Flow.Stop) { left++; reason = this.stopReason; break outer; }
                continue outer;
              }
            }
            break;
          }

          case Op.ADDI: {
            const a = x[r1];
            const lo = (a + imm) | 0;
            x[rd + 1] = (x[r1 + 1] + (imm >> 31) + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
          case Op.SLTI: {
            const ahi = x[r1 + 1], ihi = imm >> 31;
            x[rd] = ahi < ihi || (ahi === ihi && (x[r1] >>> 0) < (imm >>> 0)) ? 1 : 0; x[rd + 1] = 0;
            break;
          }
          case Op.SLTIU: {
            const ahi = x[r1 + 1] >>> 0, ihi = (imm >> 31) >>> 0;
            x[rd] = ahi < ihi || (ahi === ihi && (x[r1] >>> 0) < (imm >>> 0)) ? 1 : 0; x[rd + 1] = 0;
            break;
          }
          case Op.XORI: x[rd + 1] = x[r1 + 1] ^ (imm >> 31); x[rd] = x[r1] ^ imm; break;
          case Op.ORI: x[rd + 1] = x[r1 + 1] | (imm >> 31); x[rd] = x[r1] | imm; break;
          case Op.ANDI: x[rd + 1] = x[r1 + 1] & (imm >> 31); x[rd] = x[r1] & imm; break;
          case Op.SLLI: case Op.SLL: {
            const sh = (w & 255) === Op.SLLI ? imm : x[r2] & 63;
            const lo = x[r1], hi = x[r1 + 1];
            if (sh === 0) { x[rd] = lo; x[rd + 1] = hi; }
            else if (sh < 32) { x[rd + 1] = (hi << sh) | (lo >>> (32 - sh)); x[rd] = lo << sh; }
            else { x[rd + 1] = lo << (sh - 32); x[rd] = 0; }
            break;
          }
          case Op.SRLI: case Op.SRL: {
            const sh = (w & 255) === Op.SRLI ? imm : x[r2] & 63;
            const lo = x[r1], hi = x[r1 + 1];
            if (sh === 0) { x[rd] = lo; x[rd + 1] = hi; }
            else if (sh < 32) { x[rd] = (lo >>> sh) | (hi << (32 - sh)); x[rd + 1] = hi >>> sh; }
            else { x[rd] = hi >>> (sh - 32); x[rd + 1] = 0; }
            break;
          }
          case Op.SRAI: case Op.SRA: {
            const sh = (w & 255) === Op.SRAI ? imm : x[r2] & 63;
            const lo = x[r1], hi = x[r1 + 1];
            if (sh === 0) { x[rd] = lo; x[rd + 1] = hi; }
            else if (sh < 32) { x[rd] = (lo >>> sh) | (hi << (32 - sh)); x[rd + 1] = hi >> sh; }
            else { x[rd] = hi >> (sh - 32); x[rd + 1] = hi >> 31; }
            break;
          }
          case Op.ADD: {
            const a = x[r1], b = x[r2];
            const lo = (a + b) | 0;
            x[rd + 1] = (x[r1 + 1] + x[r2 + 1] + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
          case Op.SUB: {
            const a = x[r1], b = x[r2];
            x[rd + 1] = (x[r1 + 1] - x[r2 + 1] - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
            x[rd] = (a - b) | 0;
            break;
          }
          case Op.SLT: {
            const ahi = x[r1 + 1], bhi = x[r2 + 1];
            x[rd] = ahi < bhi || (ahi === bhi && (x[r1] >>> 0) < (x[r2] >>> 0)) ? 1 : 0; x[rd + 1] = 0;
            break;
          }
          case Op.SLTU: {
            const ahi = x[r1 + 1] >>> 0, bhi = x[r2 + 1] >>> 0;
            x[rd] = ahi < bhi || (ahi === bhi && (x[r1] >>> 0) < (x[r2] >>> 0)) ? 1 : 0; x[rd + 1] = 0;
            break;
          }
          case Op.XOR: x[rd + 1] = x[r1 + 1] ^ x[r2 + 1]; x[rd] = x[r1] ^ x[r2]; break;
          case Op.OR: x[rd + 1] = x[r1 + 1] | x[r2 + 1]; x[rd] = x[r1] | x[r2]; break;
          case Op.AND: x[rd + 1] = x[r1 + 1] & x[r2 + 1]; x[rd] = x[r1] & x[r2]; break;
          case Op.ADDIW: { const r = (x[r1] + imm) | 0; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SLLIW: { const r = x[r1] << imm; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SRLIW: { const r = (x[r1] >>> imm) | 0; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SRAIW: { const r = x[r1] >> imm; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.ADDW: { const r = (x[r1] + x[r2]) | 0; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SUBW: { const r = (x[r1] - x[r2]) | 0; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SLLW: { const r = x[r1] << (x[r2] & 31); x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SRLW: { const r = (x[r1] >>> (x[r2] & 31)) | 0; x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.SRAW: { const r = x[r1] >> (x[r2] & 31); x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.MULW: { const r = Math.imul(x[r1], x[r2]); x[rd] = r; x[rd + 1] = r >> 31; break; }
          case Op.MUL: {
            // Low 64 bits of the product: 32x32 -> 64 from 16-bit halves, plus the cross terms.
            const alo = x[r1], blo = x[r2];
            const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
            const low = a0 * b0;
            const mid = a1 * b0 + a0 * b1 + (low >>> 16); // < 2^34, exact
            const hi = a1 * b1 + ((mid / 65536) | 0) + Math.imul(alo, x[r2 + 1]) + Math.imul(x[r1 + 1], blo);
            x[rd] = (mid << 16) | (low & 0xffff);
            x[rd + 1] = hi | 0;
            break;
          }
          case Op.MULH: case Op.MULHSU: case Op.MULHU:
          case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU:
            this.mulDiv(w & 255, rd, r1, r2);
            break;
          case Op.DIVW: case Op.DIVUW: case Op.REMW: case Op.REMUW: {
            const a = x[r1], b = x[r2];
            const op = w & 255;
            const r = op === Op.DIVW ? divw(a, b) : op === Op.DIVUW ? divuw(a, b) : op === Op.REMW ? remw(a, b) : remuw(a, b);
            x[rd] = r; x[rd + 1] = r >> 31;
            break;
          }
          case Op.EXIT_PAGE:
            left++;
            this.pcLo = baseLo | (i << 1); this.pcHi = baseHi;
            continue outer;
          case Op.CROSS_PAGE: {
            left++;
            this.pcLo = baseLo | (i << 1); this.pcHi = baseHi;
            const flow = this.fetchCrossPage(imm);
            if (flow === Flow.Stop) { reason = this.stopReason; break outer; }
            if (flow === Flow.Resync) { left--; continue outer; }
            index = this.crossSlots.index; pool = this.crossSlots.pool; // run the straddling instruction once
            continue;
          }
          default: {
            // Everything rare: system instructions, CSRs, AMOs, FP. pc is materialised for them.
            this.pcLo = baseLo | (i << 1); this.pcHi = baseHi;
            this.sliceRetired = budget - left - 1 - this.nonRetired;
            const flow = this.execSlow(w, imm);
            if (flow === Flow.Next) break;
            if (flow === Flow.Stop) {
              if (this.stopReason !== StopReason.Wfi) left++; // wfi retires; the others do not
              reason = this.stopReason;
              break outer;
            }
            continue outer;
          }
        }
        i += 2 - ((w >>> 29) & 1);
      }
      // Left the page sequentially (or out of budget): materialise pc.
      const s = (baseLo >>> 0) + i * 2;
      this.pcLo = s | 0;
      this.pcHi = s >= TWO_32 ? (baseHi + 1) | 0 : baseHi;
    }

    this.instret += budget - left - this.nonRetired;
    this.stopRequested = false;
    this.resValid = false;
    return reason;
  }

  // ---------------------------------------------------------------------------------------------
  // Fetch and decode

  /** Translate pc for a fetch and install its code page in the fetch TLB. */
  private fetchMiss(lo: number, hi: number): Flow {
    if (!translate(this.walk, lo, hi, ACCESS_FETCH)) {
      this.raise(walkResult.cause, lo, hi);
      return Flow.Resync;
    }
    const page = this.codePageFor(walkResult.ppn);
    if (page === null) {
      this.stopReason = StopReason.FetchFault;
      return Flow.Stop;
    }
    this.itlb.fill(lo, hi, page.view, page.region, page.offset, 0);
    this.fetchPages[(lo >>> 12) & TLB_MASK] = page;
    this.codeUse.delete(page);
    this.codeUse.set(page, true);
    // Here no page is being executed (run() picks its page after this returns), so any page no
    // fetch TLB entry refers to may go.
    if (this.codeUse.size > this.codePageLimit) this.evictCodePages(page);
    return Flow.Next;
  }

  /**
   * Forget the least recently entered code pages (decoded slots and compiled blocks, ~7.5 KiB each)
   * until a quarter of the limit is free. Linux runs most of its boot-time code once: without this
   * its boot keeps ~1430 pages of which ~600 are used after the first half. A page that a fetch
   * TLB entry (live or parked) refers to stays, so no TLB hit ever reaches a forgotten
   * page; one entered again is decoded afresh. Forgotten pages also leave the store-TLB exclusion
   * (isLiveCode), which is right: nothing decoded from them remains.
   */
  private evictCodePages(recent: CodePage): void {
    // The fetch TLBs with their code pages: the live one, then the parked ones.
    const sets = [{ itlb: this.itlb, fetchPages: this.fetchPages, valid: true }, ...(this.parked ?? [])];
    const inTlb = new Set<CodePage>();
    for (const set of sets) {
      if (!set.valid) continue;
      const tags = set.itlb.tagLo;
      for (let t = 0; t <= TLB_MASK; t++) if (tags[t] !== TLB_INVALID) inTlb.add(set.fetchPages[t]);
    }
    let excess = this.codeUse.size - Math.floor(this.codePageLimit * 3 / 4);
    for (const page of this.codeUse.keys()) {
      if (excess <= 0) break;
      if (inTlb.has(page)) continue;
      this.codeUse.delete(page);
      const index = page.offset / 4096;
      this.codePages[page.region][index] = undefined;
      this.codeBits[page.region][index >>> 3] &= ~(1 << (index & 7));
      this.forgetBlocks(page);
      this.spareCode.push(page);
      excess--;
    }
    // Slots of invalid entries may still name forgotten pages (never read while invalid): point
    // them at a kept page, so that spareCode holds the only references to the forgotten ones.
    for (const set of sets) {
      const tags = set.itlb.tagLo;
      for (let t = 0; t <= TLB_MASK; t++) if (!set.valid || tags[t] === TLB_INVALID) set.fetchPages[t] = recent;
    }
  }

  private codePageFor(ppn: number): CodePage | null {
    const pa = ppn * 4096;
    const r = this.ram.find(pa);
    if (r < 0) return null;
    const region = this.ram.regions[r];
    const offset = pa - region.base;
    const pages = this.codePages[r];
    const index = offset / 4096;
    let page = pages[index];
    if (page === undefined) {
      // A forgotten page's arrays when there is one (evictCodePages): allocating anew while the
      // forgotten ones wait for the garbage collector would only raise the peak.
      const spare = this.spareCode.pop();
      let slots: DecodedSlots;
      if (spare !== undefined) {
        slots = spare;
        clearSlots(slots);
      } else {
        slots = newDecodedSlots();
      }
      page = { index: slots.index, pool: slots.pool, used: slots.used, view: region.view, region: r, offset, live: false, gen: this.codeGen, checked: this.codeEpoch(), jit: null };
      pages[index] = page;
      this.codeBits[r][index >>> 3] |= 1 << (index & 7);
      this.codeUse.set(page, true);
    }
    return page;
  }

  /** Counts one more entry at slot i of a page; true when it reaches the compile threshold. A
   * counter belongs to one (page, slot) at a time (its tag): an alias evicts it and starts from 1,
   * so lukewarm code sharing a counter never adds up to a compile. */
  private isHot(page: CodePage, i: number): boolean {
    const h = (Math.imul(page.offset >>> 12, 0x9e3779b1) ^ (i * 0x2f)) & (HEAT_SIZE - 1);
    const tag = page.offset + 2 * i + page.region * 0x10000000;
    if (this.heatTag[h] !== tag) {
      this.heatTag[h] = tag;
      this.heat[h] = 1;
      return this.jitThreshold <= 1;
    }
    if (++this.heat[h] < this.jitThreshold) return false;
    this.heat[h] = 0;
    return true;
  }

  /** Compile the block starting at slot i of a page (jit.ts); kept out of run() so no closure
   * captures run()'s locals. */
  private compileAt(page: CodePage, i: number): void {
    const jp = page.jit ?? (page.jit = new JitPage());
    const decodeAt = (slot: number) => this.decodeSlot(page, slot);
    if (this.jitMode === 'wasm' && this.wasmEnv !== null) compileWasmBlock(jp, this.wasmEnv, page, i, decodeAt);
    else compileBlock(jp, this.jitEnv, page, i, decodeAt);
    this.jitCompiled++;
  }

  /** Arena address of the page at `offset` in region r, or 0 (tlb.ts addr). */
  private pageAddr(r: number, offset: number): number {
    const base = this.ramAddr[r];
    return base > 0 ? base + offset : 0;
  }

  /** Forget a page's decoded slots and compiled blocks; decoding starts over from its bytes now. */
  private dropCode(page: CodePage): void {
    clearSlots(page);
    page.live = false;
    this.forgetBlocks(page);
  }

  /** Drop a page's compiled blocks; WebAssembly ones leave their modules to the GC (releaseModules
   * asks for one now and then: V8 would not collect them soon by itself). */
  private forgetBlocks(page: CodePage): void {
    const jp = page.jit;
    if (jp === null) return;
    page.jit = null;
    if (this.jitMode === 'wasm' && this.wasmEnv !== null && jp.fns.length > 0) releaseModules(this.wasmEnv, new Set(jp.fns).size);
  }

  /** After a flushCode(): may the page keep its decoded slots? (A page with none has nothing to
   * lose.) */
  private codeUnchanged(page: CodePage): boolean {
    return !page.live || stillMatches(page, page.view, page.offset);
  }

  private decodeSlot(page: CodePage, i: number): void {
    decodePageSlot(page.view, page.offset, i);
    setSlot(page, i, decoded.word, decoded.imm);
    if (!page.live) {
      page.live = true;
      this.stlb.purgePhysical(page.region, page.offset);
      const other = this.parked?.[this.priv ^ 1];
      if (other?.valid) other.stlb.purgePhysical(page.region, page.offset);
    }
  }

  /** A 32-bit instruction whose upper half is on the next page: fetch that half and decode the
   * whole instruction into the one-slot cross page. A fault on the second half reports the second
   * page's address in stval (priv spec §4.1.9) with sepc on the instruction. */
  private fetchCrossPage(lowHalf: number): Flow {
    const s = (this.pcLo >>> 0) + 2;
    const lo = s | 0;
    const hi = s >= TWO_32 ? (this.pcHi + 1) | 0 : this.pcHi;
    if (!translate(this.walk, lo, hi, ACCESS_FETCH)) {
      this.raise(walkResult.cause, lo, hi);
      return Flow.Resync;
    }
    const page = this.codePageFor(walkResult.ppn);
    if (page === null) {
      this.stopReason = StopReason.FetchFault;
      return Flow.Stop;
    }
    const upper = page.view.getUint16(page.offset, true);
    decode32((lowHalf & 0xffff) | (upper << 16));
    setSlot(this.crossSlots, SLOTS - 1, decoded.word, decoded.imm);
    return Flow.Next;
  }

  // ---------------------------------------------------------------------------------------------
  // Data access slow paths

  /** Translate a data address; on a fault, take the trap (stval = the address) and return false.
   * The load or store TLB answers first: an entry exists only for a RAM page whose walk passed
   * this access kind's checks and set A (and D for the store TLB), so it stands for a walk (priv
   * spec §4.3.2 lets cached translations be used until sfence.vma). AMOs, FP accesses and the
   * interpreter's end-of-page accesses come here without a walk when the page is cached. */
  private translateData(lo: number, hi: number, access: AccessKind): boolean {
    const tlb = access === ACCESS_STORE ? this.stlb : this.ltlb;
    const t = (lo >>> 12) & TLB_MASK;
    if (tlb.tagLo[t] === (lo & -4096) && tlb.tagHi[t] === hi) {
      walkResult.ppn = (this.ram.regions[tlb.region[t]].base + tlb.offset[t]) / 4096;
      // The entry was listed (noteDataFill) when its walk filled it: nothing new to list.
      walkResult.user = false;
      walkResult.viaMxr = false;
      return true;
    }
    if (translate(this.walk, lo, hi, access)) return true;
    this.raise(walkResult.cause, lo, hi);
    return false;
  }

  private loadSlow(lo: number, hi: number, size: number, signed: boolean, w: number, fp: boolean): Flow {
    const po = lo & 4095;
    if (po + size > 4096) return this.crossLoad(lo, hi, size, signed, fp);
    if (!this.translateData(lo, hi, ACCESS_LOAD)) return Flow.Resync;
    const ppn = walkResult.ppn;
    const pa = ppn * 4096;
    const r = pa < TWO_32 * 2097152 ? this.ram.find(pa) : -1;
    if (r < 0) {
      if (fp) { this.raise(CAUSE_LOAD_ACCESS, lo, hi); return Flow.Resync; }
      return this.mmioStop(ppn, po, size, false, 0, 0, w, signed);
    }
    const region = this.ram.regions[r];
    const offset = pa - region.base;
    this.ltlb.fill(lo, hi, region.view, r, offset, this.pageAddr(r, offset));
    this.noteDataFill((lo >>> 12) & TLB_MASK);
    this.readRam(region.view, offset + po, size, signed);
    return Flow.Next;
  }

  private readRam(view: DataView, o: number, size: number, signed: boolean): void {
    switch (size) {
      case 8: this.vLo = view.getInt32(o, true); this.vHi = view.getInt32(o + 4, true); break;
      case 4: this.vLo = view.getInt32(o, true); this.vHi = signed ? this.vLo >> 31 : 0; break;
      case 2: this.vLo = signed ? view.getInt16(o, true) : view.getUint16(o, true); this.vHi = this.vLo >> 31; break;
      default: this.vLo = signed ? view.getInt8(o) : view.getUint8(o); this.vHi = this.vLo >> 31; break;
    }
  }

  /** Translate both pages of a page-straddling access; false after a trap/stop (flow in vLo). */
  private crossPages(lo: number, hi: number, access: AccessKind, fp: boolean): Flow {
    const s2 = ((lo & -4096) >>> 0) + 4096;
    const lo2 = s2 | 0;
    const hi2 = s2 >= TWO_32 ? (hi + 1) | 0 : hi;
    const regions: number[] = [];
    const offsets: number[] = [];
    for (const [vlo, vhi] of [[lo, hi], [lo2, hi2]]) {
      if (!this.translateData(vlo, vhi, access)) return Flow.Resync;
      const pa = walkResult.ppn * 4096;
      const r = pa < TWO_32 * 2097152 ? this.ram.find(pa) : -1;
      const region = this.ram.regions[r];
      if (r < 0 || (access === ACCESS_STORE && region.readonly)) {
        if (fp) { this.raise(access === ACCESS_STORE ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS, vlo, vhi); return Flow.Resync; }
        // Part of a misaligned access is not RAM: KVM_RUN fails with EIO.
        this.stopReason = StopReason.MisalignedMmio;
        return Flow.Stop;
      }
      regions.push(r);
      offsets.push(pa - region.base);
    }
    this.crossRegions = regions;
    this.crossOffsets = offsets;
    return Flow.Next;
  }
  private crossRegions: number[] = [];
  private crossOffsets: number[] = [];

  private crossLoad(lo: number, hi: number, size: number, signed: boolean, fp: boolean): Flow {
    const flow = this.crossPages(lo, hi, ACCESS_LOAD, fp);
    if (flow !== Flow.Next) return flow;
    const po = lo & 4095;
    const buf = this.cross;
    for (let k = 0; k < size; k++) {
      const second = po + k >= 4096 ? 1 : 0;
      const region = this.ram.regions[this.crossRegions[second]];
      buf[k] = region.bytes[this.crossOffsets[second] + ((po + k) & 4095)];
    }
    this.readRam(new DataView(buf.buffer), 0, size, signed);
    return Flow.Next;
  }

  private storeSlow(lo: number, hi: number, size: number, vlo: number, vhi: number, w: number, fp: boolean): Flow {
    const po = lo & 4095;
    if (po + size > 4096) return this.crossStore(lo, hi, size, vlo, vhi, fp);
    if (!this.translateData(lo, hi, ACCESS_STORE)) return Flow.Resync;
    const ppn = walkResult.ppn;
    const pa = ppn * 4096;
    const r = pa < TWO_32 * 2097152 ? this.ram.find(pa) : -1;
    if (r < 0 || this.ram.regions[r].readonly) {
      if (fp) { this.raise(CAUSE_STORE_ACCESS, lo, hi); return Flow.Resync; }
      return this.mmioStop(ppn, po, size, true, vlo, vhi, w, false);
    }
    const region = this.ram.regions[r];
    const offset = pa - region.base;
    this.writeRam(r, offset + po, size, vlo, vhi);
    if (region.dirty === null && !this.isLiveCode(r, offset)) {
      this.stlb.fill(lo, hi, region.view, r, offset, this.pageAddr(r, offset));
      this.noteDataFill((lo >>> 12) & TLB_MASK);
    }
    return Flow.Next;
  }

  private crossStore(lo: number, hi: number, size: number, vlo: number, vhi: number, fp: boolean): Flow {
    const flow = this.crossPages(lo, hi, ACCESS_STORE, fp);
    if (flow !== Flow.Next) return flow;
    const po = lo & 4095;
    for (let k = 0; k < size; k++) {
      const second = po + k >= 4096 ? 1 : 0;
      const byte = k < 4 ? (vlo >>> (8 * k)) & 255 : (vhi >>> (8 * (k - 4))) & 255;
      this.writeRam(this.crossRegions[second], this.crossOffsets[second] + ((po + k) & 4095), 1, byte, 0);
    }
    return Flow.Next;
  }

  /** Store to RAM at (region, byte offset): marks the dirty log and drops decoded code there. */
  private writeRam(r: number, o: number, size: number, vlo: number, vhi: number): void {
    const region = this.ram.regions[r];
    const view = region.view;
    switch (size) {
      case 8: view.setInt32(o, vlo, true); view.setInt32(o + 4, vhi, true); break;
      case 4: view.setInt32(o, vlo, true); break;
      case 2: view.setInt16(o, vlo, true); break;
      default: view.setInt8(o, vlo); break;
    }
    const pageOffset = o & -4096;
    if (region.dirty !== null) {
      const p = pageOffset / 4096;
      region.dirty[p >>> 3] |= 1 << (p & 7);
    }
    const page = this.codePageAt(r, pageOffset / 4096);
    if (page !== undefined && page.live && this.touchesDecoded(page.index, o & 4095, size)) {
      this.dropCode(page);
    }
  }

  /** Does a store of `size` bytes at page offset `po` overlap a decoded instruction? Checks the
   * halfword slots written plus the one before (a 32-bit instruction starting there). Data stores
   * to a page that also holds code then leave its decoded instructions alone. */
  private touchesDecoded(index: Uint16Array, po: number, size: number): boolean {
    const first = po >>> 1;
    const last = Math.min(SLOTS - 1, (po + size - 1) >>> 1);
    for (let k = first > 0 ? first - 1 : 0; k <= last; k++) if (index[k] !== 0) return true;
    return false;
  }

  private isLiveCode(r: number, offset: number): boolean {
    const page = this.codePageAt(r, offset / 4096);
    return page !== undefined && page.live;
  }

  /** The code page at page `index` of region r, if there is one. */
  private codePageAt(r: number, index: number): CodePage | undefined {
    return (this.codeBits[r][index >>> 3] & (1 << (index & 7))) === 0 ? undefined : this.codePages[r][index];
  }

  private mmioStop(ppn: number, po: number, size: number, isWrite: boolean, vlo: number, vhi: number, w: number, signed: boolean): Flow {
    if ((po & (size - 1)) !== 0) {
      this.stopReason = StopReason.MisalignedMmio;
      return Flow.Stop;
    }
    const m = this.mmio;
    m.address = BigInt(ppn) * 4096n + BigInt(po);
    m.length = size as 1 | 2 | 4 | 8;
    m.isWrite = isWrite;
    m.data = isWrite ? BigInt.asUintN(size * 8, toU64(vlo, vhi)) : 0n;
    const rd = ((w >>> 8) & 127) >>> 1;
    m.rd = isWrite || rd === RD_SINK ? 0 : rd;
    m.signed = signed;
    m.insnLength = (w >>> 29) & 1 ? 2 : 4;
    this.stopReason = StopReason.Mmio;
    return Flow.Stop;
  }

  // ---------------------------------------------------------------------------------------------
  // Rare instructions

  private mulDiv(op: number, rd: number, r1: number, r2: number): void {
    const x = this.regs;
    const alo = x[r1], ahi = x[r1 + 1], blo = x[r2], bhi = x[r2 + 1];
    switch (op) {
      case Op.MUL: mul64(alo, ahi, blo, bhi); break;
      case Op.MULH: mulh64(alo, ahi, blo, bhi); break;
      case Op.MULHSU: mulhsu64(alo, ahi, blo, bhi); break;
      case Op.MULHU: mulhu64(alo, ahi, blo, bhi); break;
      case Op.DIV: div64(alo, ahi, blo, bhi); break;
      case Op.DIVU: divu64(alo, ahi, blo, bhi); break;
      case Op.REM: rem64(alo, ahi, blo, bhi); break;
      default: remu64(alo, ahi, blo, bhi); break;
    }
    x[rd] = r64[0];
    x[rd + 1] = r64[1];
  }

  /** pc of the current instruction plus n (n = 2 or 4). */
  private advancePc(n: number): void {
    const s = (this.pcLo >>> 0) + n;
    this.pcLo = s | 0;
    if (s >= TWO_32) this.pcHi = (this.pcHi + 1) | 0;
  }

  private illegal(raw: number): Flow {
    this.raise(CAUSE_ILLEGAL_INSTRUCTION, raw, 0);
    return Flow.Resync;
  }

  /** System, CSR, AMO and FP instructions. this.pcLo/pcHi hold the instruction's pc. */
  private execSlow(w: number, imm: number): Flow {
    const op = w & 255;
    const len = (w >>> 29) & 1 ? 2 : 4;
    switch (op) {
      case Op.ILLEGAL:
        return this.illegal(imm);
      case Op.ECALL:
        if (this.priv === 0) {
          this.raise(CAUSE_USER_ECALL, 0, 0);
          return Flow.Resync;
        }
        this.stopReason = StopReason.EcallS;
        return Flow.Stop;
      case Op.EBREAK:
        // stval = the breakpoint's address (what QEMU reports; the spec allows it or zero).
        this.raise(CAUSE_BREAKPOINT, this.pcLo, this.pcHi);
        return Flow.Resync;
      case Op.SRET:
        if (this.priv === 0) return this.illegal(0x10200073);
        this.sret();
        return Flow.Resync;
      case Op.WFI:
        // priv spec §3.1.6.5: wfi in U mode is illegal when S mode exists.
        if (this.priv === 0) return this.illegal(0x10500073);
        this.advancePc(4);
        this.stopReason = StopReason.Wfi;
        return Flow.Stop;
      case Op.SFENCE_VMA:
        if (this.priv === 0) return this.illegal(imm);
        // priv spec §4.2.1: with rs1 != x0 only the leaf translations of that virtual address
        // need to go (Linux issues one per page it remaps: ~120k during boot, mostly fixmap text
        // patching); the TLBs hold 4 KiB entries, so that is one entry per TLB. ASIDLEN = 0, so
        // rs2 selects nothing narrower.
        if (((w >>> 15) & 127) !== 0) this.flushTlbPage(this.regs[(w >>> 15) & 127], this.regs[((w >>> 15) & 127) + 1]);
        else this.flushTlb();
        this.advancePc(4);
        return Flow.Resync;
      case Op.FENCE_I:
        this.flushCode();
        this.advancePc(4);
        return Flow.Resync;
      case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
        return this.csrInstruction(w, imm);
      case Op.AMO:
        return this.amo(w, imm);
      case Op.FLW: case Op.FLD: case Op.FSW: case Op.FSD:
        return this.fpLoadStore(w, imm, len);
      case Op.FPOP:
        if ((this.csrs.sstatus & SSTATUS_FS) === 0 || !fpExecute(imm, this.regs, this.fpState)) {
          this.regs[0] = 0; this.regs[1] = 0;
          return this.illegal(imm);
        }
        this.regs[0] = 0; this.regs[1] = 0;
        this.csrs.sstatus |= SSTATUS_FS_DIRTY;
        this.advancePc(len);
        return Flow.Resync;
      default:
        return this.illegal(imm);
    }
  }

  private fpLoadStore(w: number, imm: number, len: number): Flow {
    const op = w & 255;
    const rdf = (w >>> 8) & 127, r1 = (w >>> 15) & 127, r2f = (w >>> 22) & 127;
    if ((this.csrs.sstatus & SSTATUS_FS) === 0) return this.illegal(this.rawInstruction(len));
    const x = this.regs;
    const s = (x[r1] >>> 0) + imm;
    const lo = s | 0;
    const hi = (x[r1 + 1] + (s >= TWO_32 ? 1 : s < 0 ? -1 : 0)) | 0;
    const f = this.f;
    if (op === Op.FLW || op === Op.FLD) {
      const size = op === Op.FLD ? 8 : 4;
      const flow = this.loadSlow(lo, hi, size, false, w, true);
      if (flow !== Flow.Next) return flow;
      f[rdf] = this.vLo;
      f[rdf + 1] = size === 4 ? -1 : this.vHi; // NaN-box single-precision values
      this.csrs.sstatus |= SSTATUS_FS_DIRTY;
    } else {
      const size = op === Op.FSD ? 8 : 4;
      const flow = this.storeSlow(lo, hi, size, f[r2f], f[r2f + 1], w, true);
      if (flow !== Flow.Next) return flow;
    }
    this.advancePc(len);
    return Flow.Resync;
  }

  /** The raw bits of the instruction at pc, re-read through a fetch translation (it was just
   * fetched, so this succeeds), for stval of instructions whose decoded form drops them. */
  private rawInstruction(len: number): number {
    let bits = 0;
    for (let k = 0; k < len; k += 2) {
      const s = (this.pcLo >>> 0) + k;
      const lo = s | 0;
      const hi = s >= TWO_32 ? (this.pcHi + 1) | 0 : this.pcHi;
      if (!translate(this.walk, lo, hi, ACCESS_FETCH)) return 0;
      const page = this.codePageFor(walkResult.ppn);
      if (page === null) return 0;
      bits |= page.view.getUint16(page.offset + (lo & 4095), true) << (8 * k);
    }
    return bits;
  }

  private amo(w: number, imm: number): Flow {
    const x = this.regs;
    const rd = (w >>> 8) & 127, r1 = (w >>> 15) & 127, r2 = (w >>> 22) & 127;
    const funct5 = imm >>> 1;
    const size = imm & 1 ? 8 : 4;
    const lo = x[r1], hi = x[r1 + 1];
    const isLr = funct5 === Amo.LR;
    // A extension: LR/SC/AMOs must be naturally aligned; misaligned ones raise address-misaligned.
    if ((lo & (size - 1)) !== 0) {
      this.raise(isLr ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, lo, hi);
      return Flow.Resync;
    }
    if (!this.translateData(lo, hi, isLr ? ACCESS_LOAD : ACCESS_STORE)) return Flow.Resync;
    const pa = walkResult.ppn * 4096 + (lo & 4095);
    const r = pa < TWO_32 * 2097152 ? this.ram.find(pa) : -1;
    if (r < 0 || (!isLr && this.ram.regions[r].readonly)) {
      this.raise(isLr ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS, lo, hi);
      return Flow.Resync;
    }
    const region = this.ram.regions[r];
    const o = pa - region.base;
    // Cache the translation like a plain load or store would (the walk above checked the same
    // permissions and set the same A/D bits): Linux's atomics and locks are a third of its walks.
    const pageOffset = o & -4096;
    if (isLr) {
      this.ltlb.fill(lo, hi, region.view, r, pageOffset, this.pageAddr(r, pageOffset));
      this.noteDataFill((lo >>> 12) & TLB_MASK);
    } else if (region.dirty === null && !this.isLiveCode(r, pageOffset)) {
      this.stlb.fill(lo, hi, region.view, r, pageOffset, this.pageAddr(r, pageOffset));
      this.noteDataFill((lo >>> 12) & TLB_MASK);
    }
    if (funct5 === Amo.SC) {
      const ok = this.resValid && this.resAddr === pa && this.resSize === size;
      this.resValid = false;
      if (ok) this.writeRam(r, o, size, x[r2], x[r2 + 1]);
      x[rd] = ok ? 0 : 1; x[rd + 1] = 0;
      this.advancePc(4);
      return Flow.Resync;
    }
    this.readRam(region.view, o, size, true);
    const oldLo = this.vLo, oldHi = this.vHi;
    if (isLr) {
      this.resValid = true; this.resAddr = pa; this.resSize = size;
    } else {
      let nlo: number, nhi: number;
      const blo = x[r2], bhi = size === 8 ? x[r2 + 1] : x[r2] >> 31;
      switch (funct5) {
        case Amo.SWAP: nlo = blo; nhi = bhi; break;
        case Amo.ADD: {
          nlo = (oldLo + blo) | 0;
          nhi = (oldHi + bhi + ((nlo >>> 0) < (oldLo >>> 0) ? 1 : 0)) | 0;
          break;
        }
        case Amo.XOR: nlo = oldLo ^ blo; nhi = oldHi ^ bhi; break;
        case Amo.AND: nlo = oldLo & blo; nhi = oldHi & bhi; break;
        case Amo.OR: nlo = oldLo | blo; nhi = oldHi | bhi; break;
        default: {
          // MIN/MAX compare signed; MINU/MAXU unsigned (for .w on the sign-extended 32-bit values,
          // which orders the same as the zero-extended ones when compared unsigned).
          const signedCmp = funct5 === Amo.MIN || funct5 === Amo.MAX;
          const ah = signedCmp ? oldHi : oldHi >>> 0, bh = signedCmp ? bhi : bhi >>> 0;
          const less = ah < bh || (oldHi === bhi && (oldLo >>> 0) < (blo >>> 0));
          const takeOld = funct5 === Amo.MIN || funct5 === Amo.MINU ? less : !less;
          nlo = takeOld ? oldLo : blo; nhi = takeOld ? oldHi : bhi;
          break;
        }
      }
      this.writeRam(r, o, size, nlo, nhi);
    }
    x[rd] = oldLo; x[rd + 1] = oldHi;
    this.advancePc(4);
    return Flow.Resync;
  }

  // ---------------------------------------------------------------------------------------------
  // Traps

  /** Take an exception (priv spec §4.1.1, §4.1.7-4.1.9) with sepc = this pc. */
  private raise(cause: number, tvalLo: number, tvalHi: number): void {
    this.nonRetired++;
    this.enterTrap(cause, 0, tvalLo, tvalHi, false);
  }

  private takeInterrupt(): void {
    const pending = this.csrs.sip & this.csrs.sie;
    // Priority (priv spec §4.1.3): SEI > SSI > STI.
    const code = pending & (1 << IRQ_S_EXT) ? IRQ_S_EXT : pending & (1 << IRQ_S_SOFT) ? IRQ_S_SOFT : IRQ_S_TIMER;
    this.nonRetired++;
    this.enterTrap(code, 0x80000000, 0, 0, true);
  }

  private enterTrap(causeLo: number, causeHi: number, tvalLo: number, tvalHi: number, interrupt: boolean): void {
    this.csrs.sepcLo = this.pcLo & -2; this.csrs.sepcHi = this.pcHi;
    this.csrs.scauseLo = causeLo; this.csrs.scauseHi = causeHi;
    this.csrs.stvalLo = tvalLo; this.csrs.stvalHi = tvalHi;
    let st = this.csrs.sstatus & ~(SSTATUS_SPIE | SSTATUS_SIE | SSTATUS_SPP);
    if (this.csrs.sstatus & SSTATUS_SIE) st |= SSTATUS_SPIE;
    if (this.priv === 1) st |= SSTATUS_SPP;
    this.csrs.sstatus = st;
    this.setMode(1);
    this.resValid = false;
    let base = (this.csrs.stvecLo & -4) >>> 0;
    // Vectored mode (§4.1.2): interrupts go to BASE + 4 * cause.
    if (interrupt && (this.csrs.stvecLo & 3) === 1) base += 4 * causeLo;
    this.pcLo = base | 0;
    this.pcHi = base >= TWO_32 ? (this.csrs.stvecHi + 1) | 0 : this.csrs.stvecHi;
  }

  private sret(): void {
    const st = this.csrs.sstatus;
    const newMode = st & SSTATUS_SPP ? 1 : 0;
    let next = st & ~(SSTATUS_SIE | SSTATUS_SPP);
    if (st & SSTATUS_SPIE) next |= SSTATUS_SIE;
    next |= SSTATUS_SPIE;
    this.csrs.sstatus = next;
    this.setMode(newMode);
    this.resValid = false;
    this.pcLo = this.csrs.sepcLo;
    this.pcHi = this.csrs.sepcHi;
  }

  private setMode(mode: number): void {
    if (mode !== this.priv) {
      this.swapTlbs(this.priv, mode); // cached translations were checked against the old privilege
      this.priv = mode;
    }
    this.walk.priv = mode;
  }

  /** Park the live TLB entries as privilege `from`'s and bring back `to`'s (or start empty).
   * Entries allowed only by SUM or MXR are dropped, not parked, so a parked set never depends on
   * either (their slot lists describe the live TLBs only). Everything that invalidates live
   * entries also reaches the valid parked set: flushTlb, flushTlbPage, the store-TLB purge when a
   * page becomes code. Linux's user/kernel round trips (syscalls, faults) keep both working sets. */
  private swapTlbs(from: number, to: number): void {
    this.sumSlots.drop([this.ltlb, this.stlb]);
    this.mxrSlots.drop([this.ltlb]);
    const parked = this.parked ??= [this.parkedSet(), this.parkedSet()];
    const out = parked[from], back = parked[to];
    out.itlb.copyFrom(this.itlb);
    out.ltlb.copyFrom(this.ltlb);
    out.stlb.copyFrom(this.stlb);
    const liveTags = this.itlb.tagLo, backTags = back.itlb.tagLo;
    // Code pages of valid fetch entries only (as Tlb.copyFrom does for views).
    for (let t = 0; t <= TLB_MASK; t++) if (liveTags[t] !== TLB_INVALID) out.fetchPages[t] = this.fetchPages[t];
    out.valid = true;
    if (back.valid) {
      this.itlb.copyFrom(back.itlb);
      this.ltlb.copyFrom(back.ltlb);
      this.stlb.copyFrom(back.stlb);
      for (let t = 0; t <= TLB_MASK; t++) if (backTags[t] !== TLB_INVALID) this.fetchPages[t] = back.fetchPages[t];
      back.valid = false;
    } else {
      this.itlb.flush();
      this.ltlb.flush();
      this.stlb.flush();
    }
  }

  private parkedSet(): ParkedTlbs {
    return {
      valid: false, itlb: new Tlb(EMPTY_VIEW), ltlb: new Tlb(EMPTY_VIEW), stlb: new Tlb(EMPTY_VIEW),
      fetchPages: this.fetchPages.slice(),
    };
  }

  private syncWalkContext(): void {
    this.walk.priv = this.priv;
    this.walk.sum = this.csrs.sum;
    this.walk.mxr = this.csrs.mxr;
    this.walk.satpMode = this.csrs.satpMode;
    this.walk.satpPpn = this.csrs.satpPpn;
  }

  // ---------------------------------------------------------------------------------------------
  // CSRs (priv spec §2.1-2.3 access rules, Zicsr semantics)

  private isReadOnlyCsr(num: number): boolean {
    return ((num >>> 10) & 3) === 3;
  }

  /** Read a CSR into (vLo, vHi); false if this hart has no such CSR. No privilege check. */
  private readCsr(num: number): boolean {
    if (num === CSR_CYCLE || num === CSR_INSTRET) {
      const n = this.instret + this.sliceRetired;
      this.vLo = n | 0;
      this.vHi = Math.floor(n / TWO_32) | 0;
      return true;
    }
    if (num === CSR_TIME) {
      const t = this.env.readTime();
      this.vLo = Number(BigInt.asIntN(32, t));
      this.vHi = Number(BigInt.asIntN(32, t >> 32n));
      return true;
    }
    if (!this.csrs.read(num)) return false;
    this.vLo = this.csrs.valueLo;
    this.vHi = this.csrs.valueHi;
    return true;
  }

  /** Write a CSR through its WARL rules and resynchronise what depends on it. */
  private writeCsr(num: number, lo: number, hi: number): void {
    const changed = this.csrs.write(num, lo, hi);
    // sstatus.SUM/MXR (priv spec §4.1.1.2): clearing one withdraws exactly the permissions that
    // the listed entries were filled under (S-mode access to U pages; loads from X-only pages).
    // Setting one only widens access, which no cached (allowed) translation contradicts.
    if (changed & CHANGED_SUM_CLEARED) this.sumSlots.drop([this.ltlb, this.stlb]);
    if (changed & CHANGED_MXR_CLEARED) this.mxrSlots.drop([this.ltlb]);
    if (changed & CHANGED_SATP) this.flushTlb(); // ASIDLEN = 0: nothing cached survives a switch
    this.syncWalkContext();
  }

  private csrInstruction(w: number, raw: number): Flow {
    const csr = raw >>> 20;
    const op = w & 255;
    const x = this.regs;
    const rd = (w >>> 8) & 127, r1 = (w >>> 15) & 127;
    const immediate = op === Op.CSRRWI || op === Op.CSRRSI || op === Op.CSRRCI;
    const srcLo = immediate ? r1 >>> 1 : x[r1];
    const srcHi = immediate ? 0 : x[r1 + 1];
    const isWrite = op === Op.CSRRW || op === Op.CSRRWI || r1 !== 0;
    // seed (Zkr): KVM forwards it to user space (kvm-riscv-abi.md §2.5).
    if (csr === CSR_SEED) {
      if (!this.zkr) return this.illegal(raw);
      const e = this.csrExit;
      e.csrNum = csr;
      const src = toU64(srcLo, srcHi);
      if (op === Op.CSRRW || op === Op.CSRRWI) { e.newValue = src; e.writeMask = 0xffffffffffffffffn; }
      else if (op === Op.CSRRS || op === Op.CSRRSI) { e.newValue = 0xffffffffffffffffn; e.writeMask = src; }
      else { e.newValue = 0n; e.writeMask = src; }
      e.rd = rd === RD_SINK * 2 ? 0 : rd >>> 1;
      this.stopReason = StopReason.CsrExit;
      return Flow.Stop;
    }
    const level = (csr >>> 8) & 3;
    if (level > this.priv || !this.readCsr(csr) || (isWrite && this.isReadOnlyCsr(csr))) return this.illegal(raw);
    if (csr >= CSR_FFLAGS && csr <= CSR_FCSR && (this.csrs.sstatus & SSTATUS_FS) === 0) return this.illegal(raw);
    // U-mode counter reads are gated by scounteren (CY, TM, IR = bits 0..2, §4.1.4).
    if (csr >= CSR_CYCLE && csr <= CSR_INSTRET && this.priv === 0 && ((this.csrs.scounteren >>> (csr - CSR_CYCLE)) & 1) === 0) {
      return this.illegal(raw);
    }
    const oldLo = this.vLo, oldHi = this.vHi;
    if (isWrite) {
      let nlo: number, nhi: number;
      if (op === Op.CSRRW || op === Op.CSRRWI) { nlo = srcLo; nhi = srcHi; }
      else if (op === Op.CSRRS || op === Op.CSRRSI) { nlo = oldLo | srcLo; nhi = oldHi | srcHi; }
      else { nlo = oldLo & ~srcLo; nhi = oldHi & ~srcHi; }
      this.writeCsr(csr, nlo, nhi);
    }
    x[rd] = oldLo; x[rd + 1] = oldHi;
    this.advancePc(4);
    return Flow.Resync;
  }
}
