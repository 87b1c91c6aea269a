/**
 * Fuzz target "cpu": random instruction streams run by the emulator backend through the public
 * vCPU API, with random register and CSR state, paging off or on (Sv39/Sv48 tables built from
 * random entries), a read-only slot and dirty logging. Every run() is bounded by a stop timer;
 * every exit is completed with a random value (MMIO load, SBI return, CSR value) and run again.
 *
 * Documented outcomes: any exit; run() failing with KvmError EOPNOTSUPP (fetch outside RAM) or
 * EIO (misaligned MMIO), as KVM_RUN does (kvm-riscv-abi.md §1.6); ONE_REG refusing a value with
 * KvmError (EINVAL), as KVM does for unsupported CSR values. Invariants: exits are well-formed
 * (MMIO length 1/2/4/8 with that many data bytes, never an address inside a writable slot; SBI
 * exits carry six arguments) and the read-only slot is never written.
 */
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { EmulatorVcpu } from '../../lib/backend/emulator/vcpu.js';
import type { GuestMemory, Vcpu, VcpuExit, Vm } from '../../lib/backend/types.js';
import { KvmError } from '../../lib/errors.js';
import { regId, REG_PC } from '../../lib/abi/regs.js';
import { check, type FuzzTarget } from '../harness.js';
import { runBounded } from './run-bounded.js';
import { Rng } from '../rng.js';

export type CpuOp =
  | { op: 'fill'; seed: number; style: 'random' | 'opcodes' | 'compressed' }
  | { op: 'poke'; offset: number; word: number }
  | { op: 'paging'; mode: 8 | 9; seed: number }
  | { op: 'reg'; name: string; value: bigint }
  | { op: 'irq'; level: boolean }
  | { op: 'run'; exits: number }
  /** Which execution engine runs the stream: the interpreter, or hot blocks compiled to JS or to
   * WebAssembly at a threshold low enough that random code gets compiled (the compilers' output
   * runs guest-controlled code too, so it is fuzzed like the interpreter). */
  | { op: 'engine'; engine: 'interpreter' | 'js' | 'wasm'; threshold: number };

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 64 * 1024;
const ROM_BASE = 0x8010_0000n;
const ROM_SIZE = 4096;
const STOP_AFTER_MS = 20;

/** RV64GC major opcodes (unprivileged spec, "RV32/64G Instruction Set Listings"). */
const MAJOR_OPCODES = [0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b, 0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73];
const SYSTEM_WORDS = [0x0000_0073 /* ecall */, 0x1050_0073 /* wfi */, 0x1020_0073 /* sret */, 0x1200_0073 /* sfence.vma */, 0x0000_100f /* fence.i */, 0x0010_0073 /* ebreak */];
const GPRS = ['ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
const CSRS = ['sstatus', 'sie', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'scounteren', 'senvcfg'];

function fillRam(ram: GuestMemory, seed: number, style: 'random' | 'opcodes' | 'compressed'): void {
  const rng = new Rng(seed);
  for (let off = 0; off < RAM_SIZE; off += 4) {
    let w: number;
    if (style === 'random') w = rng.u32();
    else if (style === 'compressed') w = ((rng.u32() & 0xffff_fffc) | rng.below(3)) & ~0x0003_0000 | (rng.below(3) << 16);
    else if (rng.chance(0.05)) w = rng.pick(SYSTEM_WORDS);
    else w = ((rng.u32() & ~0x7f) | rng.pick(MAJOR_OPCODES)) >>> 0;
    ram.write32(RAM_BASE + BigInt(off), w >>> 0);
  }
}

/** An Sv39/Sv48 root table at RAM_BASE + 48 KiB (priv spec §4.4, §4.5): mostly identity gigapages
 * and megapages over RAM and MMIO with random permission bits, some pointers to random tables. */
function buildPageTables(ram: GuestMemory, mode: 8 | 9, seed: number): bigint {
  const rng = new Rng(seed);
  const root = RAM_BASE + 0xc000n;
  for (let t = 0; t < 4; t++) {
    const table = root + BigInt(t * 0x1000);
    for (let i = 0; i < 512; i++) {
      let pte: bigint;
      const pick = rng.below(6);
      if (pick === 0) pte = rng.u64();
      else if (pick === 1) pte = ((((table + 0x1000n * BigInt(1 + rng.below(3))) >> 12n) << 10n) | 1n); // next level
      else if (pick === 2) pte = 0n;
      else pte = ((BigInt(i) << 18n) << 10n) | BigInt(rng.below(256)) | 1n; // identity leaf, random RWXUGAD
      ram.write64(table + BigInt(8 * i), BigInt.asUintN(64, pte));
    }
  }
  // Keep RAM itself mapped RWX/A/D at the root (VPN[top] of 0x8000_0000) so code runs at all.
  const top = mode === 8 ? 2n : 0n;
  ram.write64(root + 8n * top, (((RAM_BASE >> 12n) & ~0x3ffffn) << 10n) | 0xcfn);
  return (BigInt(mode) << 60n) | (root >> 12n);
}

function checkExit(exit: VcpuExit): void {
  switch (exit.reason) {
    case 'mmio': {
      check([1, 2, 4, 8].includes(exit.length) && exit.data.length === exit.length, `MMIO exit of length ${exit.length} with ${exit.data.length} data bytes`);
      const inRam = exit.address >= RAM_BASE && exit.address < RAM_BASE + BigInt(RAM_SIZE);
      check(!inRam, `MMIO exit at 0x${exit.address.toString(16)}, inside a RAM slot`);
      const inRom = exit.address >= ROM_BASE && exit.address < ROM_BASE + BigInt(ROM_SIZE);
      check(!inRom || exit.isWrite, `MMIO load exit at 0x${exit.address.toString(16)}, inside the read-only slot`);
      break;
    }
    case 'sbi':
      check(exit.args.length === 6, `SBI exit with ${exit.args.length} arguments`);
      break;
    default:
      break;
  }
}


export function createCpuTarget(): FuzzTarget<CpuOp> {
  const hv = createEmulator();
  return {
    name: 'cpu',
    description: 'random instruction streams, CSR state and page tables run through the emulator vCPU',
    generate(rng) {
      const ops: CpuOp[] = [
        { op: 'engine', engine: rng.pick(['interpreter', 'js', 'wasm', 'wasm'] as const), threshold: rng.pick([1, 2, 16]) },
        { op: 'fill', seed: rng.u32(), style: rng.pick(['random', 'opcodes', 'opcodes', 'compressed'] as const) },
      ];
      if (rng.chance(0.4)) ops.push({ op: 'paging', mode: rng.pick([8, 9] as const), seed: rng.u32() });
      const anchors = [RAM_BASE, RAM_BASE + BigInt(RAM_SIZE), ROM_BASE, 0x1000_0000n, 0x0c00_0000n, 0n];
      for (const name of GPRS) if (rng.chance(0.5)) ops.push({ op: 'reg', name: `core.${name}`, value: rng.interestingU64(anchors) });
      for (const name of CSRS) if (rng.chance(0.3)) ops.push({ op: 'reg', name: `csr.${name}`, value: name === 'stvec' ? RAM_BASE + BigInt(rng.below(RAM_SIZE)) : rng.interestingU64(anchors) });
      ops.push({ op: 'reg', name: 'core.pc', value: RAM_BASE + BigInt(rng.below(RAM_SIZE / 2) * 2) });
      const rounds = rng.range(1, 6);
      for (let i = 0; i < rounds; i++) {
        if (rng.chance(0.3)) ops.push({ op: 'poke', offset: rng.below(RAM_SIZE / 4) * 4, word: rng.u32() });
        if (rng.chance(0.2)) ops.push({ op: 'irq', level: rng.chance(0.5) });
        if (rng.chance(0.3)) ops.push({ op: 'reg', name: 'core.pc', value: RAM_BASE + BigInt(rng.below(RAM_SIZE / 2) * 2) });
        ops.push({ op: 'run', exits: rng.range(1, 20) });
      }
      return ops;
    },
    async execute(ops) {
      const vm: Vm = hv.createVm();
      try {
        const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE, logDirty: true });
        const rom = vm.setMemoryRegion({ slot: 1, guestPhysAddr: ROM_BASE, size: ROM_SIZE, readonly: true });
        const vcpu = vm.createVcpu(0);
        const completion = new Rng(ops.length);
        for (const o of ops) {
          switch (o.op) {
            case 'engine': {
              const hart = (vcpu as EmulatorVcpu).kernel.hart;
              hart.jit = o.engine !== 'interpreter';
              if (o.engine !== 'interpreter') hart.jitMode = o.engine;
              hart.jitThreshold = o.threshold;
              break;
            }
            case 'fill': fillRam(ram, o.seed, o.style); break;
            case 'poke': ram.write32(RAM_BASE + BigInt(o.offset), o.word >>> 0); break;
            case 'paging': {
              const satp = buildPageTables(ram, o.mode, o.seed);
              try { vcpu.setReg(regId('csr.satp'), satp); } catch (e) { if (!(e instanceof KvmError)) throw e; }
              break;
            }
            case 'reg':
              // KVM refuses some CSR values with EINVAL; the emulator may too. Both are documented.
              try { vcpu.setReg(regId(o.name), o.value); } catch (e) { if (!(e instanceof KvmError)) throw e; }
              break;
            case 'irq': vcpu.setExternalInterrupt(o.level); break;
            case 'run':
              for (let i = 0; i < o.exits; i++) {
                const exit = await runBounded(vcpu, STOP_AFTER_MS);
                if (exit instanceof KvmError) {
                  // KVM_RUN failed (fetch outside RAM, misaligned MMIO): restart somewhere in RAM.
                  vcpu.setReg(REG_PC, RAM_BASE + BigInt(completion.below(RAM_SIZE / 2) * 2));
                  continue;
                }
                checkExit(exit);
                if (exit.reason === 'mmio' && !exit.isWrite) vcpu.setMmioLoad(completion.u64());
                else if (exit.reason === 'sbi') vcpu.setSbiReturn(completion.u64(), completion.u64());
                else if (exit.reason === 'csr') vcpu.setCsrReturn(completion.u64());
                else if (exit.reason === 'system_event' || exit.reason === 'interrupted') break;
              }
              getDirtyLogChecked(vm);
              break;
          }
        }
        check(rom.readBytes(ROM_BASE, ROM_SIZE).every((b) => b === 0), 'the read-only slot was written');
      } finally {
        vm.close();
      }
    },
    caseTimeoutMs: 4000,
    dispose() { hv.close(); },
  };
}

function getDirtyLogChecked(vm: Vm): void {
  const log = vm.getDirtyLog(0);
  check(log.length === Math.ceil(RAM_SIZE / 4096 / 8), `dirty log of ${log.length} bytes for a ${RAM_SIZE}-byte slot`);
}
