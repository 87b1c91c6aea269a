/**
 * The supervisor CSR file of the emulated hart and its WARL rules (RISC-V privileged spec
 * chapter 4 "Supervisor-Level ISA", §4.1; Zicsr; the F extension's fcsr). The hart owns privilege
 * checks, counters and the side effects on its caches; this class only holds values and says
 * which translation-relevant state a write changed.
 */
import {
  CSR_FCSR, CSR_FFLAGS, CSR_FRM, CSR_SATP, CSR_SCAUSE, CSR_SCOUNTEREN, CSR_SENVCFG, CSR_SEPC,
  CSR_SIE, CSR_SIP, CSR_SSCRATCH, CSR_SSTATUS, CSR_STVAL, CSR_STVEC, SATP_MODE_BARE, SATP_MODE_SV39,
  SATP_MODE_SV48, SENVCFG_WRITABLE, SIE_MASK, SIP_SSIP, SSTATUS_FS, SSTATUS_FS_DIRTY, SSTATUS_HI_SD,
  SSTATUS_HI_UXL64, SSTATUS_MXR, SSTATUS_SPIE, SSTATUS_SPP, SSTATUS_SUM, SSTATUS_WRITABLE,
} from './csr.js';

/** write() result bits: what the caller must resynchronise. Only a *cleared* SUM or MXR is
 * reported: setting either only allows more, and cached translations are all allowed ones. */
export const CHANGED_SUM_CLEARED = 1;
export const CHANGED_SATP = 2;
export const CHANGED_MXR_CLEARED = 4;

const TWO_32 = 4294967296;

export class SupervisorCsrs {
  /** Low word of sstatus (the high word is derived: UXL = 2, SD). */
  sstatus = 0;
  sie = 0;
  /** Pending bits: SSIP (guest- or hypervisor-set), STIP and SEIP (hypervisor only). */
  sip = 0;
  stvecLo = 0; stvecHi = 0;
  sepcLo = 0; sepcHi = 0;
  scauseLo = 0; scauseHi = 0;
  stvalLo = 0; stvalHi = 0;
  sscratchLo = 0; sscratchHi = 0;
  scounteren = 0;
  senvcfg = 0;
  satpLo = 0; satpHi = 0;
  /** satp decoded for the page-table walker. */
  satpMode = 0;
  satpPpn = 0;
  /** Result of read(). */
  valueLo = 0;
  valueHi = 0;

  constructor(private readonly fp: { fcsr: number }) {}

  /** KVM's vCPU reset state: sstatus = SPP | SPIE, scounteren = 7, everything else 0. */
  reset(): void {
    this.sstatus = SSTATUS_SPP | SSTATUS_SPIE;
    this.sie = this.sip = 0;
    this.stvecLo = this.stvecHi = 0;
    this.sepcLo = this.sepcHi = 0;
    this.scauseLo = this.scauseHi = 0;
    this.stvalLo = this.stvalHi = 0;
    this.sscratchLo = this.sscratchHi = 0;
    this.scounteren = 7;
    this.senvcfg = 0;
    this.satpLo = this.satpHi = 0;
    this.satpMode = this.satpPpn = 0;
  }

  /** Read into (valueLo, valueHi); false if there is no such CSR here (counters are the hart's). */
  read(num: number): boolean {
    let lo = 0, hi = 0;
    switch (num) {
      case CSR_FFLAGS: lo = this.fp.fcsr & 0x1f; break;
      case CSR_FRM: lo = (this.fp.fcsr >>> 5) & 7; break;
      case CSR_FCSR: lo = this.fp.fcsr & 0xff; break;
      case CSR_SSTATUS:
        lo = this.sstatus;
        hi = SSTATUS_HI_UXL64 | ((this.sstatus & SSTATUS_FS) === SSTATUS_FS ? SSTATUS_HI_SD : 0);
        break;
      case CSR_SIE: lo = this.sie; break;
      case CSR_SIP: lo = this.sip; break;
      case CSR_STVEC: lo = this.stvecLo; hi = this.stvecHi; break;
      case CSR_SCOUNTEREN: lo = this.scounteren; break;
      case CSR_SENVCFG: lo = this.senvcfg; break;
      case CSR_SSCRATCH: lo = this.sscratchLo; hi = this.sscratchHi; break;
      case CSR_SEPC: lo = this.sepcLo; hi = this.sepcHi; break;
      case CSR_SCAUSE: lo = this.scauseLo; hi = this.scauseHi; break;
      case CSR_STVAL: lo = this.stvalLo; hi = this.stvalHi; break;
      case CSR_SATP: lo = this.satpLo; hi = this.satpHi; break;
      default: return false;
    }
    this.valueLo = lo;
    this.valueHi = hi;
    return true;
  }

  /** Write through the WARL rules; returns CHANGED_* bits. */
  write(num: number, lo: number, hi: number): number {
    switch (num) {
      // Any write to the FP CSRs changes FP state: FS = Dirty (F extension, priv spec §3.1.6.6).
      case CSR_FFLAGS: this.fp.fcsr = (this.fp.fcsr & ~0x1f) | (lo & 0x1f); this.sstatus |= SSTATUS_FS_DIRTY; break;
      case CSR_FRM: this.fp.fcsr = (this.fp.fcsr & 0x1f) | ((lo & 7) << 5); this.sstatus |= SSTATUS_FS_DIRTY; break;
      case CSR_FCSR: this.fp.fcsr = lo & 0xff; this.sstatus |= SSTATUS_FS_DIRTY; break;
      case CSR_SSTATUS: {
        const old = this.sstatus;
        this.sstatus = (old & ~SSTATUS_WRITABLE) | (lo & SSTATUS_WRITABLE);
        const cleared = old & ~this.sstatus;
        return ((cleared & SSTATUS_SUM) !== 0 ? CHANGED_SUM_CLEARED : 0) | ((cleared & SSTATUS_MXR) !== 0 ? CHANGED_MXR_CLEARED : 0);
      }
      case CSR_SIE: this.sie = lo & SIE_MASK; break;
      // Only SSIP is writable by the guest; STIP and SEIP come from the hypervisor (§4.1.3).
      case CSR_SIP: this.sip = (this.sip & ~SIP_SSIP) | (lo & SIP_SSIP); break;
      // MODE values 2 and 3 are reserved: keep bit 0 only (Direct or Vectored), §4.1.2.
      case CSR_STVEC: this.stvecLo = lo & ~2; this.stvecHi = hi; break;
      // No hpmcounters: only CY, TM and IR are writable (§4.1.5).
      case CSR_SCOUNTEREN: this.scounteren = lo & 7; break;
      case CSR_SENVCFG: this.senvcfg = lo & SENVCFG_WRITABLE; break;
      case CSR_SSCRATCH: this.sscratchLo = lo; this.sscratchHi = hi; break;
      // IALIGN = 16: sepc[0] is always zero (§4.1.7).
      case CSR_SEPC: this.sepcLo = lo & -2; this.sepcHi = hi; break;
      case CSR_SCAUSE: this.scauseLo = lo; this.scauseHi = hi; break;
      case CSR_STVAL: this.stvalLo = lo; this.stvalHi = hi; break;
      case CSR_SATP: {
        // §4.1.11: a write with an unsupported MODE has no effect at all (how Linux probes Sv57,
        // then Sv48, then Sv39). ASIDLEN is 0: the ASID field reads as zero.
        const mode = hi >>> 28;
        if (mode !== SATP_MODE_BARE && mode !== SATP_MODE_SV39 && mode !== SATP_MODE_SV48) return 0;
        this.satpLo = lo;
        this.satpHi = hi & 0xf0000fff;
        this.satpMode = mode;
        this.satpPpn = (hi & 0xfff) * TWO_32 + (lo >>> 0);
        return CHANGED_SATP;
      }
      default: break;
    }
    return 0;
  }

  get sum(): boolean {
    return (this.sstatus & SSTATUS_SUM) !== 0;
  }

  get mxr(): boolean {
    return (this.sstatus & SSTATUS_MXR) !== 0;
  }
}
