/**
 * Fuzz target "sbi-user": the user-space SBI layer (lib/sbi, lib/vmm/dispatch.ts) with forwarded
 * calls as KVM would deliver them (kvm-riscv-abi.md §4.3): DBCN, legacy console, BASE probe, and
 * experimental/vendor extensions whose user handlers answer, throw or reject. Pointers and lengths
 * are drawn near the RAM and read-only-slot bounds, near 2^64, with base_addr_hi != 0.
 *
 * Guest memory is a real emulator VM's slots (lib/backend/emulator), so the GuestMemory range
 * checks are exercised too. Invariants (SBI v2.0 §3, §5, §12):
 *   - dispatchExit never throws and always resumes with an sbiret of two u64s;
 *   - DBCN and legacy calls only return the error codes their sections allow;
 *   - console_write succeeds only for a buffer wholly inside one region, never reports more than
 *     asked or than DBCN_MAX_TRANSFER, and the console receives exactly those guest bytes;
 *   - console_read succeeds only into writable RAM and never reports more than asked.
 */
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { GuestMemory, SbiExit, Vm } from '../../lib/backend/types.js';
import * as SBI from '../../lib/abi/sbi.js';
import { createDbcnExtension, createLegacyConsoleExtensions, createUserExtension, DBCN_MAX_TRANSFER, GuestAddressSpace, SbiRegistry } from '../../lib/sbi/index.js';
import { MmioBus } from '../../lib/vmm/bus.js';
import { dispatchExit, newExitCounters, type MachineState } from '../../lib/vmm/dispatch.js';
import { check, FuzzViolation, type FuzzTarget } from '../harness.js';
import type { Rng } from '../rng.js';

export interface SbiUserOp {
  eid: number;
  fid: bigint;
  args: bigint[];
  /** Bytes the host console has waiting for console_read / getchar. */
  input: number;
}

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 64 * 1024;
const ROM_BASE = 0x9000_0000n;
const ROM_SIZE = 4096;
const U64 = (1n << 64n) - 1n;

const EID_THROWS = 0x0900_0001;
const EID_REJECTS = 0x0900_0002;
const EID_ECHO = 0x0800_0005;
const EID_MAP = 0x0800_0006;

const ANCHORS = [RAM_BASE, RAM_BASE + BigInt(RAM_SIZE), ROM_BASE, ROM_BASE + BigInt(ROM_SIZE), 0n, U64, 1n << 63n, BigInt(DBCN_MAX_TRANSFER), BigInt(RAM_SIZE)];

const asSigned = (v: bigint): bigint => BigInt.asIntN(64, v);

export function createSbiUserTarget(): FuzzTarget<SbiUserOp> {
  let vm: Vm | undefined;
  let ram: GuestMemory;
  let rom: GuestMemory;
  const written: Uint8Array[] = [];
  let inputLeft = 0;

  const setup = (): void => {
    vm = createEmulator().createVm();
    ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE });
    rom = vm.setMemoryRegion({ slot: 1, guestPhysAddr: ROM_BASE, size: ROM_SIZE, readonly: true });
    for (let i = 0; i < RAM_SIZE; i += 4) ram.write32(RAM_BASE + BigInt(i), Math.imul(i, 0x9e3779b1) >>> 0);
  };

  const output = { write: (b: Uint8Array): void => { written.push(b.slice()); } };
  const input = {
    read: (max: number): Uint8Array => {
      const n = Math.min(max, inputLeft);
      inputLeft -= n;
      return new Uint8Array(n).fill(0x41);
    },
  };

  const registry = new SbiRegistry();
  registry.register(createDbcnExtension({ output, input }));
  for (const e of createLegacyConsoleExtensions({ output, input })) registry.register(e);
  registry.register(createUserExtension({ name: 'throws', eid: EID_THROWS, functions: () => { throw new Error('user handler bug'); } }));
  registry.register(createUserExtension({ name: 'rejects', eid: EID_REJECTS, functions: () => Promise.reject(new Error('async user handler bug')) }));
  registry.register(createUserExtension({ name: 'echo', eid: EID_ECHO, functions: (call) => ({ error: call.args[0] ?? 0n, value: (call.args[1] ?? 0n) << 8n }) }));
  registry.register(createUserExtension({
    name: 'map',
    eid: EID_MAP,
    functions: {
      // A user handler reading a guest buffer through the checked translation.
      0: (args, ctx) => {
        const len = args[1] ?? 0n;
        if (len > 4096n) return { error: SBI.SBI_ERR_INVALID_PARAM, value: 0 };
        const bytes = ctx.memory.readBytes(args[0] ?? 0n, Number(len));
        return bytes ? { error: 0, value: bytes.length } : { error: SBI.SBI_ERR_INVALID_ADDRESS, value: 0 };
      },
      1: async (args) => ({ error: 0, value: (args[0] ?? 0n) + 1n }),
    },
  }));

  const checkDbcn = (op: SbiUserOp, err: bigint, value: bigint, before: number): void => {
    const [num = 0n, lo = 0n, hi = 0n] = op.args;
    const fid = op.fid;
    if (fid > 2n) {
      check(err === BigInt(SBI.SBI_ERR_NOT_SUPPORTED), `DBCN fid ${fid}: error ${err}, want NOT_SUPPORTED`);
      return;
    }
    if (fid === 2n) {
      check(err === 0n && written.length === before + 1 && written[before]!.length === 1 && written[before]![0] === Number(num & 0xffn), 'console_write_byte must send exactly the low byte');
      return;
    }
    check(err === 0n || err === BigInt(SBI.SBI_ERR_INVALID_PARAM) || err === BigInt(SBI.SBI_ERR_FAILED), `DBCN error ${err} is not one §12 allows`);
    if (num === 0n) { check(err === 0n && value === 0n, 'zero-length DBCN request must succeed with 0'); return; }
    const end = lo + num;
    const inRam = hi === 0n && lo >= RAM_BASE && end <= RAM_BASE + BigInt(RAM_SIZE);
    const inRom = hi === 0n && lo >= ROM_BASE && end <= ROM_BASE + BigInt(ROM_SIZE);
    if (fid === 0n) {
      check((err === 0n) === (inRam || inRom), () => `console_write(${num}, 0x${lo.toString(16)}, 0x${hi.toString(16)}) gave error ${err}; buffer inside RAM: ${inRam || inRom}`);
      if (err !== 0n) { check(written.length === before, 'a failed console_write must not output'); return; }
      check(value <= num && value <= BigInt(DBCN_MAX_TRANSFER) && value > 0n, `console_write reported ${value} bytes for a ${num}-byte request`);
      const sent = written.slice(before);
      check(sent.length === 1 && BigInt(sent[0]!.length) === value, 'console received a different byte count than reported');
      const mem = (inRam ? ram : rom).readBytes(lo, Number(value));
      check(Buffer.compare(Buffer.from(mem), Buffer.from(sent[0]!)) === 0, 'console received bytes that are not the guest buffer');
    } else {
      check((err === 0n) === inRam, () => `console_read(${num}, 0x${lo.toString(16)}, 0x${hi.toString(16)}) gave error ${err}; buffer in writable RAM: ${inRam}`);
      if (err === 0n) check(value <= num && value <= BigInt(DBCN_MAX_TRANSFER), `console_read reported ${value} bytes for a ${num}-byte request`);
    }
  };

  return {
    name: 'sbi-user',
    description: 'user-space SBI (DBCN, legacy console, BASE probe, user extensions) through dispatchExit',
    generate(rng: Rng) {
      const n = rng.range(1, 12);
      const ops: SbiUserOp[] = [];
      for (let i = 0; i < n; i++) {
        const eid = rng.pick([SBI.SBI_EXT_DBCN, SBI.SBI_EXT_DBCN, SBI.SBI_EXT_DBCN, SBI.SBI_EXT_0_1_CONSOLE_PUTCHAR, SBI.SBI_EXT_0_1_CONSOLE_GETCHAR,
          SBI.SBI_EXT_BASE, EID_THROWS, EID_REJECTS, EID_ECHO, EID_MAP, 0x0800_0000 + rng.below(0x100_0000), 0x0900_0000 + rng.below(0x100_0000), rng.u32()]);
        const fid = rng.chance(0.8) ? BigInt(rng.below(5)) : rng.interestingU64();
        const args = Array.from({ length: 6 }, () => rng.interestingU64(ANCHORS));
        // base_addr_hi is mostly 0, as a correct rv64 guest passes it.
        if (rng.chance(0.7)) args[2] = 0n;
        if (eid === SBI.SBI_EXT_DBCN && rng.chance(0.5)) args[0] = BigInt(rng.pick([1, 2, 7, 64, 4096, RAM_SIZE, DBCN_MAX_TRANSFER, DBCN_MAX_TRANSFER + 1]));
        if (eid === SBI.SBI_EXT_BASE && rng.chance(0.5)) args[0] = BigInt(rng.pick([SBI.SBI_EXT_DBCN, EID_ECHO, EID_THROWS, SBI.SBI_EXT_HSM, 0]));
        ops.push({ eid, fid, args, input: rng.chance(0.5) ? rng.below(200) : 0 });
      }
      return ops;
    },
    async execute(ops) {
      if (!vm) setup();
      const state: MachineState = { hartId: 0, sbi: registry, sbiContext: { memory: new GuestAddressSpace(() => vm!.memoryRegions()) }, bus: new MmioBus(), counters: newExitCounters() };
      // A throwing user handler is reported through process.emitWarning: count, don't print.
      const emitWarning = process.emitWarning;
      process.emitWarning = (() => {}) as typeof process.emitWarning;
      try {
        for (const op of ops) {
          inputLeft = op.input;
          const before = written.length;
          const exit: SbiExit = { reason: 'sbi', extensionId: op.eid, functionId: op.fid, args: op.args, ret: [BigInt.asUintN(64, -2n), 0n] };
          let outcome = dispatchExit(exit, state);
          if (outcome instanceof Promise) outcome = await outcome;
          check(outcome.action === 'resume' && outcome.completion.kind === 'sbi', () => `SBI exit did not resume with an sbiret: ${JSON.stringify(outcome, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)}`);
          const c = outcome.completion;
          if (c.kind !== 'sbi') throw new FuzzViolation('unreachable');
          check(c.error >= 0n && c.error <= U64 && c.value >= 0n && c.value <= U64, 'sbiret is not two u64s');
          const err = asSigned(c.error);
          if (op.eid === SBI.SBI_EXT_DBCN) checkDbcn(op, err, c.value, before);
          else if (op.eid === SBI.SBI_EXT_0_1_CONSOLE_PUTCHAR) check(err === 0n && written.length === before + 1, 'putchar must output one byte');
          else if (op.eid === SBI.SBI_EXT_0_1_CONSOLE_GETCHAR) check(err === -1n ? op.input === 0 : err === 0x41n, `getchar returned ${err} with ${op.input} bytes waiting`);
          else if (op.eid === EID_THROWS || op.eid === EID_REJECTS) check(err === BigInt(SBI.SBI_ERR_FAILED), `a throwing handler must give SBI_ERR_FAILED, got ${err}`);
          else if (op.eid === SBI.SBI_EXT_BASE) check(err === 0n ? op.fid === 3n : err === BigInt(SBI.SBI_ERR_NOT_SUPPORTED), `BASE fid ${op.fid} gave ${err}`);
          else if (registry.find(op.eid) === undefined) check(err === BigInt(SBI.SBI_ERR_NOT_SUPPORTED), `unregistered EID 0x${op.eid.toString(16)} gave ${err}`);
        }
      } finally {
        process.emitWarning = emitWarning;
      }
    },
    caseTimeoutMs: 2000,
    dispose() { vm?.close(); },
  };
}
