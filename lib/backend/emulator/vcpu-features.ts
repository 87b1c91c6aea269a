/**
 * What one emulated vCPU offers the guest and how user space may change it before the first run:
 * the ISA extensions (ONE_REG config.isa and ISA_EXT registers, kvm-riscv-abi.md §3.3, §3.9), the
 * SBI extensions (SBI_EXT registers, §3.10) and the machine ids (config.mvendorid/marchid/mimpid).
 * The rules are those of arch/riscv/kvm/vcpu_onereg.c in Linux 6.12.
 */
import { ISA_EXTS, SBI_EXTS, type IsaExtName, type SbiExtName } from '../../abi/regs.js';

/** The extensions the emulated hart implements: an rv64imafdc_zicntr_zicsr_zifencei "host". */
export const EMULATED_ISA_EXTS: readonly IsaExtName[] = ['A', 'C', 'D', 'F', 'I', 'M', 'ZICNTR', 'ZICSR', 'ZIFENCEI'];

/** Extensions KVM lets user space switch off (kvm_riscv_vcpu_isa_disable_allowed), among ours. */
const DISABLE_ALLOWED: ReadonlySet<IsaExtName> = new Set(['D', 'F', 'V', 'SVPBMT', 'ZICBOM', 'ZICBOZ', 'SMSTATEEN']);
/** Extensions KVM never lets a guest have (kvm_riscv_vcpu_isa_enable_allowed). */
const ENABLE_FORBIDDEN: ReadonlySet<IsaExtName> = new Set(['H', 'V']);

/** RISCV_ISA_EXT_BASE: config.isa holds single-letter extensions only, bits 0..25. */
export const ISA_BASE_BITS = 26;

export type SbiExtStatus = 'enabled' | 'disabled' | 'unavailable';

/** SBI extension defaults of 6.12 (kvm_riscv_vcpu_sbi_init): DBCN starts disabled; PMU and STA
 * depend on host features the emulator does not model, so they are unavailable. */
const SBI_DEFAULTS: Record<SbiExtName, SbiExtStatus> = {
  V01: 'enabled', TIME: 'enabled', IPI: 'enabled', RFENCE: 'enabled', SRST: 'enabled', HSM: 'enabled',
  PMU: 'unavailable', EXPERIMENTAL: 'enabled', VENDOR: 'enabled', DBCN: 'disabled', STA: 'unavailable',
};

function letterBit(name: IsaExtName): number {
  return name.length === 1 ? name.charCodeAt(0) - 65 : -1;
}

export class VcpuFeatures {
  /** Enabled ISA extensions by KVM_RISCV_ISA_EXT id. */
  readonly #isa = new Set<number>();
  readonly #sbi: SbiExtStatus[];
  mvendorid = 0n;
  marchid = 0n;
  mimpid = 0n;

  constructor() {
    for (const name of EMULATED_ISA_EXTS) this.#isa.add(ISA_EXTS.indexOf(name));
    this.#sbi = SBI_EXTS.map((n) => SBI_DEFAULTS[n]);
  }

  /** True when the "host" (the emulated hart) implements ISA extension `id`. */
  static hostHasIsaExt(id: number): boolean {
    const name = ISA_EXTS[id];
    return name !== undefined && EMULATED_ISA_EXTS.includes(name);
  }

  static isaDisableAllowed(id: number): boolean {
    return DISABLE_ALLOWED.has(ISA_EXTS[id]);
  }

  static isaEnableAllowed(id: number): boolean {
    return !ENABLE_FORBIDDEN.has(ISA_EXTS[id]);
  }

  isaExtEnabled(id: number): boolean {
    return this.#isa.has(id);
  }

  hasLetter(letter: 'A' | 'C' | 'D' | 'F' | 'I' | 'M'): boolean {
    return this.#isa.has(ISA_EXTS.indexOf(letter));
  }

  setIsaExt(id: number, enabled: boolean): void {
    if (enabled) this.#isa.add(id);
    else this.#isa.delete(id);
  }

  /** config.isa: bit n = letter 'a' + n, for the single-letter extensions enabled. */
  isaBitmap(): bigint {
    let bits = 0n;
    for (const id of this.#isa) {
      const bit = letterBit(ISA_EXTS[id]);
      if (bit >= 0) bits |= 1n << BigInt(bit);
    }
    return bits;
  }

  /** The host's single-letter bitmap (riscv_isa_extension_base(NULL)). */
  static hostIsaBitmap(): bigint {
    let bits = 0n;
    for (const name of EMULATED_ISA_EXTS) {
      const bit = letterBit(name);
      if (bit >= 0) bits |= 1n << BigInt(bit);
    }
    return bits;
  }

  /** Applies a config.isa write the way 6.12 does: extensions that cannot be switched are forced
   * back to their current state, then the value is masked with what the host has. */
  applyIsaBitmap(requested: bigint): void {
    let value = requested;
    for (let bit = 0; bit < ISA_BASE_BITS; bit++) {
      const name = String.fromCharCode(65 + bit) as IsaExtName;
      const id = ISA_EXTS.indexOf(name);
      const mask = 1n << BigInt(bit);
      if (id < 0) {
        value &= ~mask;
        continue;
      }
      if (!VcpuFeatures.isaEnableAllowed(id) && (value & mask)) value &= ~mask;
      if (!VcpuFeatures.isaDisableAllowed(id) && !(value & mask)) value |= mask;
    }
    value &= VcpuFeatures.hostIsaBitmap();
    for (let bit = 0; bit < ISA_BASE_BITS; bit++) {
      const id = ISA_EXTS.indexOf(String.fromCharCode(65 + bit) as IsaExtName);
      if (id >= 0 && VcpuFeatures.hostHasIsaExt(id)) this.setIsaExt(id, (value & (1n << BigInt(bit))) !== 0n);
    }
  }

  sbiStatus(idx: number): SbiExtStatus {
    return this.#sbi[idx] ?? 'unavailable';
  }

  sbiEnabled(name: SbiExtName): boolean {
    return this.#sbi[SBI_EXTS.indexOf(name)] === 'enabled';
  }

  setSbiStatus(idx: number, enabled: boolean): void {
    this.#sbi[idx] = enabled ? 'enabled' : 'disabled';
  }
}
