/**
 * Fuzz target "sbi-kernel": the SBI calls the software KVM answers in its "kernel"
 * (lib/backend/emulator/sbi: BASE, TIME, IPI, RFENCE, SRST, HSM, legacy v0.1) and the ones it
 * forwards, driven through the public API exactly as a guest would: registers set with ONE_REG,
 * an `ecall` executed by vCPU 0, then a load from unmapped address 0 so that every in-kernel call
 * ends in an MMIO exit where the result registers can be read.
 *
 * Arguments are drawn for the cases that break handlers: hart ids past the last vCPU, start
 * addresses outside RAM, every suspend type class, hart masks with bases near 2^64 and -1, SRST
 * types and reasons with high bits set, set_timer values near 0 and 2^64, legacy mask pointers
 * that fault. Oracles (SBI v2.0 and arch/riscv/kvm 6.12, kvm-riscv-abi.md §4):
 *   - an in-kernel call returns one of the error codes its section allows, and a1 = 0 on error;
 *   - IPI: INVALID_PARAM exactly when the mask names a hart that does not exist (§7.1);
 *   - HSM: INVALID_PARAM for an unknown hart (§9.1, §9.3); suspend types by class (§9.4);
 *   - SRST: shutdown/reset exits with the reason's low 32 bits, other types NOT_SUPPORTED (§10.1);
 *   - a forwarded call exits with the guest's a0..a5, and the completion lands in a0/a1;
 *   - run() only ever fails with the errors KVM_RUN documents (EOPNOTSUPP, EIO) for harts started
 *     at addresses outside RAM; nothing blocks longer than the stop timer.
 */
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { Vcpu, VcpuExit, Vm } from '../../lib/backend/types.js';
import { KvmError } from '../../lib/errors.js';
import { regId, REG_PC, REG_SBI_EXT_DBCN } from '../../lib/abi/regs.js';
import * as SBI from '../../lib/abi/sbi.js';
import { check, type FuzzTarget } from '../harness.js';
import { runBounded } from './run-bounded.js';
import type { Rng } from '../rng.js';

export type SbiKernelOp =
  | { op: 'call'; eid: bigint; fid: bigint; args: bigint[] }
  | { op: 'run-other'; vcpu: number };

export interface SbiKernelCase { vcpus: number; sbiV01: boolean; dbcn: boolean }

type Op = SbiKernelOp | ({ op: 'setup' } & SbiKernelCase);

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 64 * 1024;
const ALL = (1n << 64n) - 1n;
const ECALL = 0x0000_0073;
const LW_T0_ZERO = 0x0000_2283; // lw t0, 0(zero): a load from unmapped address 0 → MMIO exit
/** The ecall; the word before it is never executed (see the pc note in execute). */
const ENTRY = RAM_BASE + 0x10n;
const HANDLER = RAM_BASE + 0x40n;
/** Stop timer for runs that may legitimately block (a STOPPED hart, hart_stop, hart_suspend). */
const STOP_AFTER_MS = 25;
/** Stop timer for calls that must return at once: reaching it is a failure. */
const MUST_RETURN_MS = 1000;
const A = (n: number): bigint => regId(`core.a${n}`);

const KNOWN_EIDS = [SBI.SBI_EXT_BASE, SBI.SBI_EXT_TIME, SBI.SBI_EXT_IPI, SBI.SBI_EXT_RFENCE, SBI.SBI_EXT_SRST, SBI.SBI_EXT_HSM,
  SBI.SBI_EXT_DBCN, SBI.SBI_EXT_PMU, SBI.SBI_EXT_STA, SBI.SBI_EXT_SUSP, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0800_0000, 0x09ff_ffff, 0x0a00_0000];

const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: number): bigint => BigInt.asUintN(64, BigInt(v));


const describeExit = (e: VcpuExit | KvmError): string => (e instanceof KvmError ? `${e.code}` : e.reason === 'mmio' ? `mmio@0x${e.address.toString(16)}` : e.reason);

export function createSbiKernelTarget(): FuzzTarget<Op> {
  // Deterministic time lets no vCPU execute while another one that ran has no run() pending
  // (scheduler.ts barrier), so cases that also run the other harts use realtime time.
  const hv = createEmulator();
  const hvRealtime = createEmulator({ time: 'realtime' });

  return {
    name: 'sbi-kernel',
    description: 'in-kernel SBI of the software KVM (BASE/TIME/IPI/RFENCE/SRST/HSM/v0.1) and forwarding, via ecall',
    generate(rng: Rng) {
      const c: SbiKernelCase = { vcpus: rng.range(1, 4), sbiV01: rng.chance(0.3), dbcn: rng.chance(0.5) };
      const ops: Op[] = [{ op: 'setup', ...c }];
      const anchors = [RAM_BASE, RAM_BASE + BigInt(RAM_SIZE), ALL, ALL - 63n, 1n << 63n, BigInt(c.vcpus), 0x8000_0000n];
      const n = rng.range(1, 10);
      for (let i = 0; i < n; i++) {
        if (c.vcpus > 1 && rng.chance(0.1)) { ops.push({ op: 'run-other', vcpu: rng.range(1, c.vcpus - 1) }); continue; }
        const eid = rng.chance(0.9) ? BigInt(rng.pick(KNOWN_EIDS)) : rng.chance(0.5) ? BigInt(rng.u32()) : rng.u64();
        const fid = rng.chance(0.85) ? BigInt(rng.below(8)) : rng.interestingU64();
        const args = Array.from({ length: 6 }, () => rng.interestingU64(anchors));
        if (rng.chance(0.5)) args[0] = BigInt(rng.below(c.vcpus + 2)); // hart ids, small masks, types
        if (rng.chance(0.3)) args[1] = rng.pick([0n, 1n, ALL, BigInt(rng.below(4)), ALL - BigInt(rng.below(4))]);
        if (eid === BigInt(SBI.SBI_EXT_HSM) && rng.chance(0.5)) args[0] = BigInt(rng.pick([0, 1, 0x8000_0000, 0x1000_0000, 0x7fff_ffff, 0xffff_ffff, 0x1_0000_0000]));
        ops.push({ op: 'call', eid, fid, args });
      }
      return ops;
    },
    async execute(ops) {
      const setup = ops.find((o): o is { op: 'setup' } & SbiKernelCase => o.op === 'setup') ?? { op: 'setup', vcpus: 1, sbiV01: false, dbcn: false };
      const runsOthers = ops.some((o) => o.op === 'run-other');
      const vm: Vm = (runsOthers ? hvRealtime : hv).createVm({ sbiV01: setup.sbiV01 });
      try {
        const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: RAM_BASE, size: RAM_SIZE });
        ram.write32(ENTRY, ECALL);
        ram.write32(ENTRY + 4n, LW_T0_ZERO);
        ram.write32(HANDLER, LW_T0_ZERO);
        const vcpus = Array.from({ length: setup.vcpus }, (_, id) => vm.createVcpu(id));
        for (const v of vcpus) {
          if (setup.dbcn) v.setReg(REG_SBI_EXT_DBCN, 1n);
          v.setReg(regId('csr.stvec'), HANDLER);
        }
        const boot = vcpus[0]!;
        let loadPending = false;
        for (const o of ops) {
          if (o.op === 'setup') continue;
          if (o.op === 'run-other') {
            const v = vcpus[o.vcpu];
            if (!v) continue;
            // A hart started at an arbitrary address runs whatever is there: any exit, or the
            // documented KVM_RUN failures, bounded by the stop timer.
            await runBounded(v, STOP_AFTER_MS);
            continue;
          }
          boot.setMpState('runnable');
          // The MMIO load that ended the previous call is completed at the next run(), which
          // writes rd and advances pc by 4 as KVM does (kvm_riscv_vcpu_mmio_return): start one
          // instruction early so the completion lands on the ecall.
          boot.setReg(REG_PC, loadPending ? ENTRY - 4n : ENTRY);
          loadPending = false;
          for (let i = 0; i < 6; i++) boot.setReg(A(i), o.args[i]!);
          boot.setReg(A(6), o.fid);
          boot.setReg(A(7), o.eid);
          const a1Before = o.args[1]!;
          const mayBlock = o.eid === BigInt(SBI.SBI_EXT_HSM) && (o.fid === BigInt(SBI.SBI_EXT_HSM_HART_STOP) || (o.fid === BigInt(SBI.SBI_EXT_HSM_HART_SUSPEND) && BigInt.asUintN(32, o.args[0]!) === 0n));
          let exit = await runBounded(boot, mayBlock ? STOP_AFTER_MS : MUST_RETURN_MS);
          const what = `ecall eid 0x${o.eid.toString(16)} fid ${o.fid}`;
          check(!(exit instanceof KvmError), () => `${what}: KVM_RUN failed (${describeExit(exit)}) for a program inside RAM`);
          if (exit instanceof KvmError) return;
          if (exit.reason === 'sbi') {
            check(BigInt(exit.extensionId) === o.eid && exit.functionId === o.fid, `${what}: forwarded as eid 0x${exit.extensionId.toString(16)} fid ${exit.functionId}`);
            check(exit.args.length === 6 && exit.args.every((a, i) => a === o.args[i]), `${what}: forwarded arguments differ from a0..a5`);
            check(signed(exit.ret[0]) === BigInt(SBI.SBI_ERR_NOT_SUPPORTED), `${what}: ret not pre-filled with NOT_SUPPORTED`);
            checkForwardable(o, setup);
            const err = BigInt(o.args[2]! & 0xfn) - 8n;
            const val = o.args[3]!;
            boot.setSbiReturn(err, val);
            exit = await runBounded(boot, MUST_RETURN_MS);
            check(!(exit instanceof KvmError) && exit.reason === 'mmio', `${what}: after the completion, expected the MMIO exit, got ${describeExit(exit)}`);
            loadPending = true;
            check(boot.getReg(A(0)) === u64(Number(err)) && boot.getReg(A(1)) === val, `${what}: completion did not reach a0/a1`);
            continue;
          }
          if (exit.reason === 'system_event') {
            checkSystemEvent(o, setup, exit.type, exit.data[0]);
            continue;
          }
          if (exit.reason === 'interrupted') {
            // Only a call that stops or suspends the calling hart may leave it waiting.
            check(mayBlock, `${what}: vCPU 0 blocked (interrupted by the stop timer)`);
            return; // the hart is stopped or in wfi: the case ends here
          }
          check(exit.reason === 'mmio' && exit.address === 0n && !exit.isWrite, () => `${what}: expected the MMIO load at 0, got ${describeExit(exit)}`);
          loadPending = true;
          const pc = boot.getReg(REG_PC);
          if (pc === HANDLER) {
            // A legacy call whose mask pointer faulted: the trap was redirected into the guest.
            const legacyMask = setup.sbiV01 && o.eid >= 4n && o.eid <= 7n;
            check(legacyMask, `${what}: trapped into the guest (scause ${boot.getReg(regId('csr.scause'))})`);
            check([4n, 5n, 13n].includes(boot.getReg(regId('csr.scause'))), `${what}: trap cause ${boot.getReg(regId('csr.scause'))} is not a load fault`);
            continue;
          }
          check(pc === ENTRY + 4n, `${what}: pc 0x${pc.toString(16)} after an in-kernel call, want ecall + 4`);
          checkReturn(o, setup, signed(boot.getReg(A(0))), boot.getReg(A(1)), a1Before);
        }
      } finally {
        vm.close();
      }
    },
    isExpected: () => false,
    caseTimeoutMs: 3000,
    dispose() { hv.close(); hvRealtime.close(); },
  };
}

const inForwardedRange = (eid: bigint): boolean => eid <= 0xffff_ffffn && SBI.isForwardedRange(Number(eid));

function checkForwardable(o: Extract<SbiKernelOp, { op: 'call' }>, c: SbiKernelCase): void {
  const eid = o.eid;
  const ok = inForwardedRange(eid)
    || (eid === BigInt(SBI.SBI_EXT_DBCN) && c.dbcn && o.fid <= 2n)
    || (eid === BigInt(SBI.SBI_EXT_BASE) && o.fid === BigInt(SBI.SBI_EXT_BASE_PROBE_EXT) && inForwardedRange(o.args[0]!))
    || (c.sbiV01 && (eid === 1n || eid === 2n));
  check(ok, `eid 0x${eid.toString(16)} fid ${o.fid} was forwarded to user space; KVM answers it in the kernel`);
}

function checkSystemEvent(o: Extract<SbiKernelOp, { op: 'call' }>, c: SbiKernelCase, type: string, reason: bigint | undefined): void {
  if (c.sbiV01 && o.eid === 8n) {
    check(type === 'shutdown', `legacy shutdown gave a '${type}' event`);
    return;
  }
  check(o.eid === BigInt(SBI.SBI_EXT_SRST) && o.fid === 0n, `eid 0x${o.eid.toString(16)} fid ${o.fid} made a system event`);
  const t = BigInt.asUintN(32, o.args[0]!);
  check((t === 0n && type === 'shutdown') || ((t === 1n || t === 2n) && type === 'reset'), `SRST type ${t} gave a '${type}' event`);
  check(reason === BigInt.asUintN(32, o.args[1]!), `SRST reason ${reason} is not the low 32 bits of a1`);
}

function checkReturn(o: Extract<SbiKernelOp, { op: 'call' }>, c: SbiKernelCase, err: bigint, value: bigint, a1Before: bigint): void {
  const what = `eid 0x${o.eid.toString(16)} fid ${o.fid} args [${o.args.map((a) => `0x${a.toString(16)}`).join(', ')}]`;
  const E = (n: number): bigint => BigInt(n);
  const allowed = (...codes: number[]): void => check(codes.map(E).includes(err), `${what}: error ${err}, allowed ${codes.join('/')}`);
  const n = BigInt(c.vcpus);
  if (c.sbiV01 && o.eid <= 8n) {
    check(value === a1Before, `${what}: a legacy call changed a1`);
    allowed(0);
    return;
  }
  if (err !== 0n) check(value === 0n, `${what}: a1 = 0x${value.toString(16)} with error ${err}`);
  const fid = o.fid;
  switch (o.eid) {
    case E(SBI.SBI_EXT_BASE):
      if (fid <= 6n) {
        allowed(0);
        if (fid === 0n) check(value === E(SBI.SBI_SPEC_VERSION_2_0), `${what}: spec version 0x${value.toString(16)}`);
        if (fid === 1n) check(value === E(SBI.SBI_IMPL_ID_KVM), `${what}: impl id ${value}`);
      } else allowed(SBI.SBI_ERR_NOT_SUPPORTED);
      return;
    case E(SBI.SBI_EXT_TIME):
      allowed(fid === 0n ? 0 : SBI.SBI_ERR_NOT_SUPPORTED);
      return;
    case E(SBI.SBI_EXT_IPI): {
      if (fid !== 0n) { allowed(SBI.SBI_ERR_NOT_SUPPORTED); return; }
      const [mask, base] = o.args as [bigint, bigint];
      let valid = true;
      if (base !== ALL) for (let bit = 0n; bit < 64n; bit++) if ((mask >> bit) & 1n && base + bit >= n) valid = false;
      allowed(valid ? 0 : SBI.SBI_ERR_INVALID_PARAM);
      return;
    }
    case E(SBI.SBI_EXT_RFENCE):
      allowed(fid <= 2n ? 0 : SBI.SBI_ERR_NOT_SUPPORTED);
      return;
    case E(SBI.SBI_EXT_SRST):
      allowed(SBI.SBI_ERR_NOT_SUPPORTED); // a valid type would have been a system event
      check(fid !== 0n || BigInt.asUintN(32, o.args[0]!) > 2n, `${what}: valid reset type answered in the kernel`);
      return;
    case E(SBI.SBI_EXT_HSM): {
      const hart = o.args[0]!;
      switch (fid) {
        case 0n:
          if (hart >= n) allowed(SBI.SBI_ERR_INVALID_PARAM);
          else if (hart === 0n) allowed(SBI.SBI_ERR_ALREADY_AVAILABLE);
          else allowed(0, SBI.SBI_ERR_ALREADY_AVAILABLE);
          return;
        case 2n:
          if (hart >= n) { allowed(SBI.SBI_ERR_INVALID_PARAM); return; }
          allowed(0);
          check([0n, 1n, 4n].includes(value), `${what}: hart status ${value}`);
          if (hart === 0n) check(value === 0n, `${what}: the calling hart is not STARTED`);
          return;
        case 3n: {
          const type = BigInt.asUintN(32, hart);
          allowed(type === 0n ? 0 : type === 0x8000_0000n ? SBI.SBI_ERR_NOT_SUPPORTED : SBI.SBI_ERR_INVALID_PARAM);
          return;
        }
        default:
          allowed(fid === 1n ? 0 : SBI.SBI_ERR_NOT_SUPPORTED);
          return;
      }
    }
    case E(SBI.SBI_EXT_DBCN):
      allowed(SBI.SBI_ERR_NOT_SUPPORTED); // forwarded when enabled and fid <= 2
      return;
    default:
      allowed(SBI.SBI_ERR_NOT_SUPPORTED);
  }
}
