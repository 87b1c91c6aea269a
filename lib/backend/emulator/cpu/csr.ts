/**
 * Numbers the emulated hart needs from the RISC-V privileged spec (v1.12+, chapter 4 "Supervisor-Level
 * ISA") and the unprivileged spec (Zicsr, Zicntr, F/D fcsr), under their spec names.
 */

// CSR numbers (priv spec Table 2.2-2.4).
export const CSR_FFLAGS = 0x001;
export const CSR_FRM = 0x002;
export const CSR_FCSR = 0x003;
export const CSR_SEED = 0x015;
export const CSR_CYCLE = 0xc00;
export const CSR_TIME = 0xc01;
export const CSR_INSTRET = 0xc02;
export const CSR_SSTATUS = 0x100;
export const CSR_SIE = 0x104;
export const CSR_STVEC = 0x105;
export const CSR_SCOUNTEREN = 0x106;
export const CSR_SENVCFG = 0x10a;
export const CSR_SSCRATCH = 0x140;
export const CSR_SEPC = 0x141;
export const CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143;
export const CSR_SIP = 0x144;
export const CSR_SATP = 0x180;

// sstatus bits (priv spec §4.1.1). Only the low word matters except UXL (bits 33:32) and SD (63).
export const SSTATUS_SIE = 1 << 1;
export const SSTATUS_SPIE = 1 << 5;
export const SSTATUS_UBE = 1 << 6;
export const SSTATUS_SPP = 1 << 8;
export const SSTATUS_VS = 3 << 9;
export const SSTATUS_FS = 3 << 13;
export const SSTATUS_FS_DIRTY = 3 << 13;
export const SSTATUS_XS = 3 << 15;
export const SSTATUS_SUM = 1 << 18;
export const SSTATUS_MXR = 1 << 19;
/** Bits of the low word a guest can write: SIE, SPIE, SPP, FS, SUM, MXR (no V/Zicfilp/big-endian). */
export const SSTATUS_WRITABLE = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_FS | SSTATUS_SUM | SSTATUS_MXR;
/** High word: UXL = 2 (XLEN 64) read-only; bit 31 of the high word is SD. */
export const SSTATUS_HI_UXL64 = 2;
export const SSTATUS_HI_SD = 1 << 31;

// sip/sie bits the guest sees (priv spec §4.1.3): SSIP, STIP, SEIP.
export const SIP_SSIP = 1 << 1;
export const SIP_STIP = 1 << 5;
export const SIP_SEIP = 1 << 9;
export const SIE_MASK = SIP_SSIP | SIP_STIP | SIP_SEIP;

// senvcfg (priv spec §4.1.5 / Zicbo*): FIOM (bit 0) is the only field without an extension here.
export const SENVCFG_WRITABLE = 1;

// satp (priv spec §4.1.11): MODE in bits 63:60, ASID 59:44, PPN 43:0.
export const SATP_MODE_BARE = 0;
export const SATP_MODE_SV39 = 8;
export const SATP_MODE_SV48 = 9;
export const SATP_MODE_SV57 = 10;

// Exception causes (priv spec Table 4.2, scause with interrupt bit clear).
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8;
export const CAUSE_SUPERVISOR_ECALL = 9;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;
