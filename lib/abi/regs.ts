/**
 * RISC-V ONE_REG ids (Linux arch/riscv/include/uapi/asm/kvm.h, 6.12; kvm-riscv-abi.md §3).
 *
 * id = KVM_REG_RISCV | size | type << 24 | subtype << 16 | index. Ids are u64 and are handled as
 * BigInt throughout. `REG` maps a dotted name ("core.pc", "csr.sstatus", "sbi_ext.DBCN") to its id;
 * `regName()` maps back, for error messages ("KVM_SET_ONE_REG (core.pc)").
 */

export const KVM_REG_RISCV = 0x8000000000000000n;
export const KVM_REG_SIZE_SHIFT = 52n;
export const KVM_REG_SIZE_MASK = 0x00f0000000000000n;
export const KVM_REG_SIZE_U32 = 0x0020000000000000n;
export const KVM_REG_SIZE_U64 = 0x0030000000000000n;
export const KVM_REG_SIZE_U128 = 0x0040000000000000n;

export const KVM_REG_RISCV_TYPE_SHIFT = 24n;
export const KVM_REG_RISCV_SUBTYPE_SHIFT = 16n;
export const KVM_REG_RISCV_CONFIG = 0x01;
export const KVM_REG_RISCV_CORE = 0x02;
export const KVM_REG_RISCV_CSR = 0x03;
export const KVM_REG_RISCV_TIMER = 0x04;
export const KVM_REG_RISCV_FP_F = 0x05;
export const KVM_REG_RISCV_FP_D = 0x06;
export const KVM_REG_RISCV_ISA_EXT = 0x07;
export const KVM_REG_RISCV_SBI_EXT = 0x08;
export const KVM_REG_RISCV_VECTOR = 0x09;
export const KVM_REG_RISCV_SBI_STATE = 0x0a;

export const KVM_REG_RISCV_CSR_GENERAL = 0;
export const KVM_REG_RISCV_CSR_AIA = 1;
export const KVM_REG_RISCV_CSR_SMSTATEEN = 2;
export const KVM_REG_RISCV_ISA_SINGLE = 0;
export const KVM_REG_RISCV_ISA_MULTI_EN = 1;
export const KVM_REG_RISCV_ISA_MULTI_DIS = 2;
export const KVM_REG_RISCV_SBI_SINGLE = 0;
export const KVM_REG_RISCV_SBI_MULTI_EN = 1;
export const KVM_REG_RISCV_SBI_MULTI_DIS = 2;

/** Build a ONE_REG id. */
export function riscvRegId(type: number, subtype: number, index: number, size: bigint = KVM_REG_SIZE_U64): bigint {
  return KVM_REG_RISCV | size | (BigInt(type) << KVM_REG_RISCV_TYPE_SHIFT) |
    (BigInt(subtype) << KVM_REG_RISCV_SUBTYPE_SHIFT) | BigInt(index);
}

/** Size in bytes of the register an id names: KVM_REG_SIZE(id). */
export function regSizeBytes(id: bigint): number {
  return 1 << Number((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

export function regType(id: bigint): number { return Number((id >> 24n) & 0xffn); }
export function regSubtype(id: bigint): number { return Number((id >> 16n) & 0xffn); }
export function regIndex(id: bigint): number { return Number(id & 0xffffn); }

/** struct kvm_riscv_config field order (§3.3). */
export const CONFIG_REGS = ['isa', 'zicbom_block_size', 'mvendorid', 'marchid', 'mimpid', 'zicboz_block_size', 'satp_mode'] as const;
/** struct kvm_riscv_core: index 0 is regs.pc, 1..31 are x1..x31 by ABI name, 32 is mode (§3.4). */
export const CORE_REGS = [
  'pc', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6', 'mode',
] as const;
/** struct kvm_riscv_csr (§3.5). */
export const CSR_REGS = ['sstatus', 'sie', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'sip', 'satp', 'scounteren', 'senvcfg'] as const;
export const AIA_CSR_REGS = ['siselect', 'iprio1', 'iprio2', 'sieh', 'siph', 'iprio1h', 'iprio2h'] as const;
/** struct kvm_riscv_timer (§3.6). */
export const TIMER_REGS = ['frequency', 'time', 'compare', 'state'] as const;
/** enum KVM_RISCV_ISA_EXT_ID, 6.12 (§3.9); index = id. */
export const ISA_EXTS = [
  'A', 'C', 'D', 'F', 'H', 'I', 'M', 'SVPBMT', 'SSTC', 'SVINVAL', 'ZIHINTPAUSE', 'ZICBOM', 'ZICBOZ', 'ZBB',
  'SSAIA', 'V', 'SVNAPOT', 'ZBA', 'ZBS', 'ZICNTR', 'ZICSR', 'ZIFENCEI', 'ZIHPM', 'SMSTATEEN', 'ZICOND', 'ZBC',
  'ZBKB', 'ZBKC', 'ZBKX', 'ZKND', 'ZKNE', 'ZKNH', 'ZKR', 'ZKSED', 'ZKSH', 'ZKT', 'ZVBB', 'ZVBC', 'ZVKB', 'ZVKG',
  'ZVKNED', 'ZVKNHA', 'ZVKNHB', 'ZVKSED', 'ZVKSH', 'ZVKT', 'ZFH', 'ZFHMIN', 'ZIHINTNTL', 'ZVFH', 'ZVFHMIN', 'ZFA',
  'ZTSO', 'ZACAS', 'SSCOFPMF', 'ZIMOP', 'ZCA', 'ZCB', 'ZCD', 'ZCF', 'ZCMOP', 'ZAWRS',
] as const;
export const KVM_RISCV_ISA_EXT_MAX = 62;
/** enum KVM_RISCV_SBI_EXT_ID, 6.12 (§3.10); index = id. */
export const SBI_EXTS = ['V01', 'TIME', 'IPI', 'RFENCE', 'SRST', 'HSM', 'PMU', 'EXPERIMENTAL', 'VENDOR', 'DBCN', 'STA'] as const;
export const KVM_RISCV_SBI_EXT_MAX = 11;

export type CoreRegName = typeof CORE_REGS[number];
export type CsrRegName = typeof CSR_REGS[number];
export type IsaExtName = typeof ISA_EXTS[number];
export type SbiExtName = typeof SBI_EXTS[number];

const byName = new Map<string, bigint>();
const byId = new Map<bigint, string>();
function def(name: string, id: bigint): bigint {
  byName.set(name, id);
  byId.set(id, name);
  return id;
}

CONFIG_REGS.forEach((n, i) => def(`config.${n}`, riscvRegId(KVM_REG_RISCV_CONFIG, 0, i)));
CORE_REGS.forEach((n, i) => def(`core.${n}`, riscvRegId(KVM_REG_RISCV_CORE, 0, i)));
CSR_REGS.forEach((n, i) => def(`csr.${n}`, riscvRegId(KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_GENERAL, i)));
AIA_CSR_REGS.forEach((n, i) => def(`csr.aia.${n}`, riscvRegId(KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_AIA, i)));
def('csr.smstateen.sstateen0', riscvRegId(KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_SMSTATEEN, 0));
TIMER_REGS.forEach((n, i) => def(`timer.${n}`, riscvRegId(KVM_REG_RISCV_TIMER, 0, i)));
for (let i = 0; i < 32; i++) {
  def(`fp_f.f${i}`, riscvRegId(KVM_REG_RISCV_FP_F, 0, i, KVM_REG_SIZE_U32));
  def(`fp_d.f${i}`, riscvRegId(KVM_REG_RISCV_FP_D, 0, i, KVM_REG_SIZE_U64));
}
def('fp_f.fcsr', riscvRegId(KVM_REG_RISCV_FP_F, 0, 32, KVM_REG_SIZE_U32));
def('fp_d.fcsr', riscvRegId(KVM_REG_RISCV_FP_D, 0, 32, KVM_REG_SIZE_U32)); // fcsr is U32 even in FP_D
ISA_EXTS.forEach((n, i) => def(`isa_ext.${n}`, riscvRegId(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE, i)));
SBI_EXTS.forEach((n, i) => def(`sbi_ext.${n}`, riscvRegId(KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE, i)));
def('sbi_ext.multi_en.0', riscvRegId(KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_MULTI_EN, 0));
def('sbi_ext.multi_dis.0', riscvRegId(KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_MULTI_DIS, 0));
def('isa_ext.multi_en.0', riscvRegId(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_MULTI_EN, 0));
def('isa_ext.multi_dis.0', riscvRegId(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_MULTI_DIS, 0));
def('sbi_state.sta.shmem_lo', riscvRegId(KVM_REG_RISCV_SBI_STATE, 0, 0));
def('sbi_state.sta.shmem_hi', riscvRegId(KVM_REG_RISCV_SBI_STATE, 0, 1));

/** Every named register id, by dotted name. */
export const REG: ReadonlyMap<string, bigint> = byName;

/** The id of a named register; throws RangeError naming the unknown name. */
export function regId(name: string): bigint {
  const id = byName.get(name);
  if (id === undefined) throw new RangeError(`unknown register name '${name}'`);
  return id;
}

/** The dotted name of an id, or its hex form when it has no name. */
export function regName(id: bigint): string {
  return byId.get(id) ?? `0x${id.toString(16)}`;
}

/** Core register id by x-register number (x1..x31) — x0 has no ONE_REG id. */
export function coreXReg(n: number): bigint {
  if (!Number.isInteger(n) || n < 1 || n > 31) throw new RangeError(`x${n} has no ONE_REG id (x1..x31)`);
  return riscvRegId(KVM_REG_RISCV_CORE, 0, n);
}

/** Named constants for the ids used most often. */
export const REG_PC = regId('core.pc');
export const REG_A0 = regId('core.a0');
export const REG_A1 = regId('core.a1');
export const REG_MODE = regId('core.mode');
export const REG_TIMER_FREQUENCY = regId('timer.frequency');
export const REG_CONFIG_ISA = regId('config.isa');
export const REG_SBI_EXT_DBCN = regId('sbi_ext.DBCN');
