/**
 * KVM_GET_ONE_REG / KVM_SET_ONE_REG / KVM_GET_REG_LIST of the software KVM, following
 * arch/riscv/kvm/vcpu_onereg.c (+ vcpu_timer.c, vcpu_fp.c, vcpu_sbi.c) of Linux 6.12 for an
 * rv64imafdc_zicntr_zicsr_zifencei host without AIA, Smstateen, V, Zicbom/Zicboz, PMU or STA
 * (kvm-riscv-abi.md §3). Error conventions: unknown id → ENOENT, wrong size → EINVAL, value not
 * allowed → EINVAL, change of a config/ISA/SBI-extension register after the first run → EBUSY.
 *
 * Known deviation: with both F and D enabled, KVM's FP_F registers alias halves of the D register
 * file (a union in struct __riscv_fp_state); here FP_F f<n> is always the low word of f<n>.
 */
import {
  ISA_EXTS, KVM_REG_SIZE_U32, KVM_REG_SIZE_U64, KVM_RISCV_ISA_EXT_MAX, KVM_RISCV_SBI_EXT_MAX,
  KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_CORE, KVM_REG_RISCV_CSR, KVM_REG_RISCV_TIMER, KVM_REG_RISCV_FP_F,
  KVM_REG_RISCV_FP_D, KVM_REG_RISCV_VECTOR, KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_STATE,
  KVM_REG_RISCV_CSR_GENERAL, KVM_REG_RISCV_CSR_AIA, KVM_REG_RISCV_CSR_SMSTATEEN, KVM_REG_RISCV_ISA_SINGLE,
  KVM_REG_RISCV_ISA_MULTI_EN, KVM_REG_RISCV_ISA_MULTI_DIS, KVM_REG_RISCV_SBI_SINGLE, KVM_REG_RISCV_SBI_MULTI_EN,
  KVM_REG_RISCV_SBI_MULTI_DIS, AIA_CSR_REGS, CSR_REGS, TIMER_REGS, CORE_REGS, regName, regSizeBytes, riscvRegId,
} from '../../abi/regs.js';
import { ERRNO } from '../../abi/kvm.js';
import { kvmErrno, type KvmError } from '../../errors.js';
import type { GuestClock } from './clock.js';
import { IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER } from './cpu/contract.js';
import { TIMEBASE_HZ } from './clock.js';
import type { KernelVcpu } from './kernel-vcpu.js';
import { TIMER_STATE_ON } from './timer.js';
import { ISA_BASE_BITS, VcpuFeatures } from './vcpu-features.js';

/** config.satp_mode: the best mode the emulated hart translates (priv spec §4.1.11: 9 = Sv48). */
export const EMULATOR_SATP_MODE = 9n;

/** CSR numbers behind struct kvm_riscv_csr, in ONE_REG index order (§3.5). */
const GENERAL_CSR_NUMBERS = [0x100, 0x104, 0x105, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0x106, 0x10a];
/** The pending bits a ONE_REG write of sip can set (VSIP_VALID_MASK: SSIP, STIP, SEIP). */
const SIP_VALID_MASK = (1n << 1n) | (1n << 5n) | (1n << 9n);
const CONFIG_INDEX = { isa: 0, zicbomBlockSize: 1, mvendorid: 2, marchid: 3, mimpid: 4, zicbozBlockSize: 5, satpMode: 6 };
const MULTI_REG_LAST_ISA = Math.floor((KVM_RISCV_ISA_EXT_MAX - 1) / 64);
const MULTI_REG_LAST_SBI = Math.floor((KVM_RISCV_SBI_EXT_MAX - 1) / 64);
const U64 = 0xffff_ffff_ffff_ffffn;

export interface OneRegContext {
  vcpu: KernelVcpu;
  clock: GuestClock;
}

type Op = 'KVM_GET_ONE_REG' | 'KVM_SET_ONE_REG';

function err(errno: number, op: Op, id: bigint): KvmError {
  return kvmErrno(errno, op, regName(id));
}

/** The parts of an id the kernel switches on: type (bits 31-24) and reg_num (everything but the
 * arch, size and type fields, so stray bits make the index unknown). */
function decode(id: bigint): { type: number; num: bigint; size: number } {
  const type = Number((id >> 24n) & 0xffn);
  const num = id & ~(0xff00_0000_0000_0000n | 0x00f0_0000_0000_0000n | 0xff00_0000n);
  return { type, num, size: regSizeBytes(id) };
}

function splitSubtype(num: bigint): { subtype: number; index: bigint } {
  return { subtype: Number((num >> 16n) & 0xffn), index: num & ~0xff_0000n };
}

function letterEnabled(vcpu: KernelVcpu, letter: 'F' | 'D'): boolean {
  return vcpu.features.hasLetter(letter);
}

// ---------------------------------------------------------------------------------------------
// GET

export function getOneReg(ctx: OneRegContext, id: bigint): bigint {
  const { vcpu, clock } = ctx;
  const hart = vcpu.hart;
  const op = 'KVM_GET_ONE_REG';
  const { type, num, size } = decode(id);
  switch (type) {
    case KVM_REG_RISCV_CONFIG:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      switch (num) {
        case BigInt(CONFIG_INDEX.isa): return vcpu.features.isaBitmap();
        case BigInt(CONFIG_INDEX.mvendorid): return vcpu.features.mvendorid;
        case BigInt(CONFIG_INDEX.marchid): return vcpu.features.marchid;
        case BigInt(CONFIG_INDEX.mimpid): return vcpu.features.mimpid;
        case BigInt(CONFIG_INDEX.satpMode): return EMULATOR_SATP_MODE;
        default: throw err(ERRNO.ENOENT, op, id); // includes zicbom/zicboz block sizes: no Zicbom/Zicboz
      }
    case KVM_REG_RISCV_CORE:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      if (num >= BigInt(CORE_REGS.length)) throw err(ERRNO.ENOENT, op, id);
      if (num === 0n) return hart.pc;
      if (num === 32n) return hart.mode === 1 ? 1n : 0n;
      return hart.getX(Number(num));
    case KVM_REG_RISCV_CSR: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_CSR_GENERAL) {
        if (index >= BigInt(CSR_REGS.length)) throw err(ERRNO.ENOENT, op, id);
        return hart.getCsr(GENERAL_CSR_NUMBERS[Number(index)]);
      }
      if (subtype === KVM_REG_RISCV_CSR_AIA) {
        if (index >= BigInt(AIA_CSR_REGS.length)) throw err(ERRNO.ENOENT, op, id);
        return 0n; // kvm_riscv_vcpu_aia_get_csr reads 0 when the host has no AIA
      }
      if (subtype === KVM_REG_RISCV_CSR_SMSTATEEN) throw err(ERRNO.EINVAL, op, id); // no host Smstateen
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_TIMER:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      switch (num) {
        case 0n: return BigInt(TIMEBASE_HZ);
        case 1n: return clock.now();
        case 2n: return vcpu.timer.compare;
        case 3n: return vcpu.timer.armed ? 1n : 0n;
        default: throw err(ERRNO.ENOENT, op, id);
      }
    case KVM_REG_RISCV_FP_F:
    case KVM_REG_RISCV_FP_D:
      return fpAccess(vcpu, id, type, num, size, op);
    case KVM_REG_RISCV_VECTOR:
      throw err(ERRNO.ENOENT, op, id); // no V
    case KVM_REG_RISCV_ISA_EXT: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_ISA_SINGLE) return isaExtSingle(vcpu, index, op, id);
      if (subtype === KVM_REG_RISCV_ISA_MULTI_EN || subtype === KVM_REG_RISCV_ISA_MULTI_DIS) {
        if (index > BigInt(MULTI_REG_LAST_ISA)) throw err(ERRNO.ENOENT, op, id);
        let bits = 0n;
        for (let i = 0; i < 64; i++) {
          const ext = Number(index) * 64 + i;
          if (ext >= KVM_RISCV_ISA_EXT_MAX) break;
          if (VcpuFeatures.hostHasIsaExt(ext) && vcpu.features.isaExtEnabled(ext)) bits |= 1n << BigInt(i);
        }
        return subtype === KVM_REG_RISCV_ISA_MULTI_DIS ? ~bits & U64 : bits;
      }
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_SBI_EXT: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_SBI_SINGLE) return sbiExtSingle(vcpu, index, op, id);
      if (subtype === KVM_REG_RISCV_SBI_MULTI_EN || subtype === KVM_REG_RISCV_SBI_MULTI_DIS) {
        if (index > BigInt(MULTI_REG_LAST_SBI)) throw err(ERRNO.ENOENT, op, id);
        let bits = 0n;
        for (let i = 0; i < 64; i++) {
          const ext = Number(index) * 64 + i;
          if (ext >= KVM_RISCV_SBI_EXT_MAX) break;
          if (vcpu.features.sbiStatus(ext) === 'enabled') bits |= 1n << BigInt(i);
        }
        return subtype === KVM_REG_RISCV_SBI_MULTI_DIS ? ~bits & U64 : bits;
      }
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_SBI_STATE:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      throw err(ERRNO.ENOENT, op, id); // STA is unavailable
    default:
      throw err(ERRNO.ENOENT, op, id);
  }
}

function isaExtSingle(vcpu: KernelVcpu, index: bigint, op: Op, id: bigint): bigint {
  if (index >= BigInt(KVM_RISCV_ISA_EXT_MAX) || !VcpuFeatures.hostHasIsaExt(Number(index))) throw err(ERRNO.ENOENT, op, id);
  return vcpu.features.isaExtEnabled(Number(index)) ? 1n : 0n;
}

function sbiExtSingle(vcpu: KernelVcpu, index: bigint, op: Op, id: bigint): bigint {
  if (index >= BigInt(KVM_RISCV_SBI_EXT_MAX)) throw err(ERRNO.ENOENT, op, id);
  const status = vcpu.features.sbiStatus(Number(index));
  if (status === 'unavailable') throw err(ERRNO.ENOENT, op, id);
  return status === 'enabled' ? 1n : 0n;
}

/** FP_F / FP_D (vcpu_fp.c): reachable only while the matching extension is enabled; fcsr is U32
 * in both; f<n> is U32 in FP_F and U64 in FP_D. Returns the value for a get, applies `value`
 * for a set. */
function fpAccess(vcpu: KernelVcpu, id: bigint, type: number, num: bigint, size: number, op: Op, value?: bigint): bigint {
  const isF = type === KVM_REG_RISCV_FP_F;
  if (!letterEnabled(vcpu, isF ? 'F' : 'D')) throw err(ERRNO.ENOENT, op, id);
  const hart = vcpu.hart;
  if (num === 32n) {
    if (size !== 4) throw err(ERRNO.EINVAL, op, id);
    if (value === undefined) return BigInt(hart.fcsr >>> 0);
    hart.fcsr = Number(value & 0xffn); // fcsr holds frm (7:5) and fflags (4:0), priv-spec WARL
    return value;
  }
  if (num > 31n) throw err(ERRNO.ENOENT, op, id);
  if (size !== (isF ? 4 : 8)) throw err(ERRNO.EINVAL, op, id);
  const n = Number(num);
  if (value === undefined) return isF ? hart.getF(n) & 0xffff_ffffn : hart.getF(n);
  // Singles are NaN-boxed in the 64-bit register file (unprivileged spec §13.2 "NaN Boxing").
  hart.setF(n, isF ? 0xffff_ffff_0000_0000n | value : value);
  return value;
}

// ---------------------------------------------------------------------------------------------
// SET

export function setOneReg(ctx: OneRegContext, id: bigint, value: bigint): void {
  const { vcpu, clock } = ctx;
  const hart = vcpu.hart;
  const op = 'KVM_SET_ONE_REG';
  const { type, num, size } = decode(id);
  switch (type) {
    case KVM_REG_RISCV_CONFIG:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      switch (num) {
        case BigInt(CONFIG_INDEX.isa): {
          if (value >> BigInt(ISA_BASE_BITS)) throw err(ERRNO.EINVAL, op, id);
          if (value === vcpu.features.isaBitmap()) return;
          if (vcpu.ranOnce) throw err(ERRNO.EBUSY, op, id);
          vcpu.features.applyIsaBitmap(value);
          vcpu.fpReset();
          return;
        }
        case BigInt(CONFIG_INDEX.mvendorid):
        case BigInt(CONFIG_INDEX.marchid):
        case BigInt(CONFIG_INDEX.mimpid): {
          const key = num === 2n ? 'mvendorid' : num === 3n ? 'marchid' : 'mimpid';
          if (value === vcpu.features[key]) return;
          if (vcpu.ranOnce) throw err(ERRNO.EBUSY, op, id);
          vcpu.features[key] = value;
          return;
        }
        case BigInt(CONFIG_INDEX.satpMode):
          if (value !== EMULATOR_SATP_MODE) throw err(ERRNO.EINVAL, op, id);
          return;
        default:
          throw err(ERRNO.ENOENT, op, id);
      }
    case KVM_REG_RISCV_CORE:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      if (num >= BigInt(CORE_REGS.length)) throw err(ERRNO.ENOENT, op, id);
      if (num === 0n) {
        hart.pc = value;
        // A new entry point from user space (boot, reboot): drop decoded code, since user-space
        // writes to guest RAM are not snooped (see vcpu.ts).
        hart.flushCode();
      } else if (num === 32n) {
        vcpu.setMode(value === 1n ? 1 : 0); // KVM: 1 sets sstatus.SPP, anything else clears it
      } else {
        hart.setX(Number(num), value);
      }
      return;
    case KVM_REG_RISCV_CSR: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_CSR_GENERAL) {
        if (index >= BigInt(CSR_REGS.length)) throw err(ERRNO.ENOENT, op, id);
        const csr = GENERAL_CSR_NUMBERS[Number(index)];
        if (csr === 0x144) {
          // KVM replaces the VS-level pending bits (hvip); the guest itself can only write SSIP,
          // so STIP and SEIP go through the hypervisor's interrupt lines.
          hart.setCsr(csr, value & SIP_VALID_MASK);
          hart.setPending(IRQ_S_SOFT, (value & (1n << 1n)) !== 0n);
          hart.setPending(IRQ_S_TIMER, (value & (1n << 5n)) !== 0n);
          hart.setPending(IRQ_S_EXT, (value & (1n << 9n)) !== 0n);
        } else {
          hart.setCsr(csr, value);
        }
        return;
      }
      if (subtype === KVM_REG_RISCV_CSR_AIA) {
        if (index >= BigInt(AIA_CSR_REGS.length)) throw err(ERRNO.ENOENT, op, id);
        return; // ignored without host AIA
      }
      if (subtype === KVM_REG_RISCV_CSR_SMSTATEEN) throw err(ERRNO.EINVAL, op, id);
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_TIMER:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      switch (num) {
        case 0n:
          if (value !== BigInt(TIMEBASE_HZ)) throw err(ERRNO.EINVAL, op, id);
          return;
        case 1n:
          clock.set(value);
          return;
        case 2n:
          vcpu.timer.compare = value;
          return;
        case 3n:
          // vcpu_timer.c quirk: ON arms the timer with the value 1 (not with compare).
          if (value === TIMER_STATE_ON) vcpu.timer.nextEvent(TIMER_STATE_ON);
          else vcpu.timer.cancel();
          return;
        default:
          throw err(ERRNO.ENOENT, op, id);
      }
    case KVM_REG_RISCV_FP_F:
    case KVM_REG_RISCV_FP_D:
      fpAccess(vcpu, id, type, num, size, op, value);
      return;
    case KVM_REG_RISCV_VECTOR:
      throw err(ERRNO.ENOENT, op, id);
    case KVM_REG_RISCV_ISA_EXT: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_ISA_SINGLE) {
        setIsaExtSingle(vcpu, index, value, op, id);
        return;
      }
      if (subtype === KVM_REG_RISCV_ISA_MULTI_EN || subtype === KVM_REG_RISCV_ISA_MULTI_DIS) {
        if (index > BigInt(MULTI_REG_LAST_ISA)) throw err(ERRNO.ENOENT, op, id);
        const enable = subtype === KVM_REG_RISCV_ISA_MULTI_EN ? 1n : 0n;
        for (let i = 0; i < 64; i++) {
          if (!(value & (1n << BigInt(i)))) continue;
          const ext = Number(index) * 64 + i;
          if (ext >= KVM_RISCV_ISA_EXT_MAX) throw err(ERRNO.ENOENT, op, id);
          // 6.12 ignores the result of each single write here.
          try { setIsaExtSingle(vcpu, BigInt(ext), enable, op, id); } catch { /* ignored, as KVM does */ }
        }
        return;
      }
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_SBI_EXT: {
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      if (vcpu.ranOnce) throw err(ERRNO.EBUSY, op, id);
      const { subtype, index } = splitSubtype(num);
      if (subtype === KVM_REG_RISCV_SBI_SINGLE) {
        setSbiExtSingle(vcpu, index, value, op, id);
        return;
      }
      if (subtype === KVM_REG_RISCV_SBI_MULTI_EN || subtype === KVM_REG_RISCV_SBI_MULTI_DIS) {
        if (index > BigInt(MULTI_REG_LAST_SBI)) throw err(ERRNO.ENOENT, op, id);
        const enable = subtype === KVM_REG_RISCV_SBI_MULTI_EN ? 1n : 0n;
        for (let i = 0; i < 64; i++) {
          if (!(value & (1n << BigInt(i)))) continue;
          const ext = Number(index) * 64 + i;
          if (ext >= KVM_RISCV_SBI_EXT_MAX) throw err(ERRNO.ENOENT, op, id);
          try { setSbiExtSingle(vcpu, BigInt(ext), enable, op, id); } catch { /* ignored, as KVM does */ }
        }
        return;
      }
      throw err(ERRNO.ENOENT, op, id);
    }
    case KVM_REG_RISCV_SBI_STATE:
      if (size !== 8) throw err(ERRNO.EINVAL, op, id);
      throw err(ERRNO.ENOENT, op, id);
    default:
      throw err(ERRNO.ENOENT, op, id);
  }
}

function setIsaExtSingle(vcpu: KernelVcpu, index: bigint, value: bigint, op: Op, id: bigint): void {
  if (index >= BigInt(KVM_RISCV_ISA_EXT_MAX) || !VcpuFeatures.hostHasIsaExt(Number(index))) throw err(ERRNO.ENOENT, op, id);
  const ext = Number(index);
  const current = vcpu.features.isaExtEnabled(ext) ? 1n : 0n;
  if (value === current) return;
  if (vcpu.ranOnce) throw err(ERRNO.EBUSY, op, id);
  if (value === 1n && VcpuFeatures.isaEnableAllowed(ext)) vcpu.features.setIsaExt(ext, true);
  else if (value === 0n && VcpuFeatures.isaDisableAllowed(ext)) vcpu.features.setIsaExt(ext, false);
  else throw err(ERRNO.EINVAL, op, id);
  vcpu.fpReset();
}

function setSbiExtSingle(vcpu: KernelVcpu, index: bigint, value: bigint, op: Op, id: bigint): void {
  if (index >= BigInt(KVM_RISCV_SBI_EXT_MAX)) throw err(ERRNO.ENOENT, op, id);
  if (value !== 0n && value !== 1n) throw err(ERRNO.EINVAL, op, id);
  if (vcpu.features.sbiStatus(Number(index)) === 'unavailable') throw err(ERRNO.ENOENT, op, id);
  vcpu.features.setSbiStatus(Number(index), value === 1n);
}

// ---------------------------------------------------------------------------------------------
// LIST

/** KVM_GET_REG_LIST in kvm_riscv_vcpu_copy_reg_indices order. */
export function regList(vcpu: KernelVcpu): bigint[] {
  const ids: bigint[] = [];
  for (const i of [CONFIG_INDEX.isa, CONFIG_INDEX.mvendorid, CONFIG_INDEX.marchid, CONFIG_INDEX.mimpid, CONFIG_INDEX.satpMode]) {
    ids.push(riscvRegId(KVM_REG_RISCV_CONFIG, 0, i));
  }
  for (let i = 0; i < CORE_REGS.length; i++) ids.push(riscvRegId(KVM_REG_RISCV_CORE, 0, i));
  for (let i = 0; i < CSR_REGS.length; i++) ids.push(riscvRegId(KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_GENERAL, i));
  for (let i = 0; i < TIMER_REGS.length; i++) ids.push(riscvRegId(KVM_REG_RISCV_TIMER, 0, i));
  if (vcpu.features.hasLetter('F')) {
    for (let i = 0; i <= 32; i++) ids.push(riscvRegId(KVM_REG_RISCV_FP_F, 0, i, KVM_REG_SIZE_U32));
  }
  if (vcpu.features.hasLetter('D')) {
    for (let i = 0; i < 32; i++) ids.push(riscvRegId(KVM_REG_RISCV_FP_D, 0, i, KVM_REG_SIZE_U64));
    ids.push(riscvRegId(KVM_REG_RISCV_FP_D, 0, 32, KVM_REG_SIZE_U32));
  }
  for (let i = 0; i < ISA_EXTS.length; i++) {
    if (VcpuFeatures.hostHasIsaExt(i)) ids.push(riscvRegId(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE, i));
  }
  for (let i = 0; i < KVM_RISCV_SBI_EXT_MAX; i++) {
    if (vcpu.features.sbiStatus(i) !== 'unavailable') ids.push(riscvRegId(KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE, i));
  }
  return ids;
}

/** TS-side argument checks before the "ioctl": the id is a u64 BigInt; a value must fit the
 * register's size (signed or unsigned). Returns the value as the unsigned bit pattern. */
export function checkRegId(id: unknown): bigint {
  if (typeof id !== 'bigint') throw new TypeError(`id must be a bigint register id, got ${typeof id}`);
  if (id < 0n || id > U64) throw new RangeError(`id must be a u64, got ${id}`);
  return id;
}

export function checkRegValue(id: bigint, value: unknown): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`value must be a bigint, got ${typeof value}`);
  const bits = BigInt(Math.min(regSizeBytes(id), 1024) * 8);
  if (value < -(1n << (bits - 1n)) || value >= 1n << bits) {
    throw new RangeError(`value ${value} does not fit the ${bits}-bit register ${regName(id)}`);
  }
  return BigInt.asUintN(Number(bits), value);
}
