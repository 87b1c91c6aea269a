/**
 * A 64-bit load through the guest's own address translation, for the legacy SBI v0.1 calls whose
 * hart mask is a pointer (SBI spec v2.0 §5.4-5.6). KVM does it with an unprivileged HLV from the
 * guest's S mode (kvm_riscv_vcpu_unpriv_read); a fault becomes a trap redirected into the guest.
 * Bare mode, Sv39 and Sv48 are walked as priv spec §4.3.2 "Virtual Address Translation Process"
 * describes (A bit must be set, U pages need sstatus.SUM, MXR makes executable pages readable).
 */
import type { RamRegion } from '../cpu/contract.js';

export const CAUSE_LOAD_MISALIGNED = 4n;
export const CAUSE_LOAD_ACCESS = 5n;
export const CAUSE_LOAD_PAGE_FAULT = 13n;

const SSTATUS_SUM = 1n << 18n;
const SSTATUS_MXR = 1n << 19n;
const PTE_V = 1n, PTE_R = 2n, PTE_W = 4n, PTE_X = 8n, PTE_U = 16n, PTE_A = 64n;

export type GuestRead = { ok: true; value: bigint } | { ok: false; cause: bigint };

function readPhys64(ram: readonly RamRegion[], pa: bigint): bigint | null {
  if (pa > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const a = Number(pa);
  for (const r of ram) {
    if (a >= r.base && a + 8 <= r.base + r.size) return r.view.getBigUint64(a - r.base, true);
  }
  return null;
}

export function readGuestVirtual64(ram: readonly RamRegion[], satp: bigint, sstatus: bigint, va: bigint): GuestRead {
  if (va & 7n) return { ok: false, cause: CAUSE_LOAD_MISALIGNED };
  const mode = Number(satp >> 60n);
  if (mode === 0) {
    const v = readPhys64(ram, va);
    return v === null ? { ok: false, cause: CAUSE_LOAD_ACCESS } : { ok: true, value: v };
  }
  const levels = mode === 8 ? 3 : mode === 9 ? 4 : 0;
  if (!levels) return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
  const vaBits = BigInt(12 + 9 * levels);
  // The address must be the sign extension of its low vaBits bits.
  if (BigInt.asIntN(64, va) !== BigInt.asIntN(Number(vaBits), va)) return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
  let table = (satp & ((1n << 44n) - 1n)) << 12n;
  for (let level = levels - 1; level >= 0; level--) {
    const vpn = (va >> BigInt(12 + 9 * level)) & 0x1ffn;
    const pte = readPhys64(ram, table + vpn * 8n);
    if (pte === null) return { ok: false, cause: CAUSE_LOAD_ACCESS };
    if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W))) return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
    const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
    if (!(pte & (PTE_R | PTE_X))) {
      table = ppn << 12n;
      continue;
    }
    const readable = (pte & PTE_R) || ((sstatus & SSTATUS_MXR) && (pte & PTE_X));
    if (!readable || ((pte & PTE_U) && !(sstatus & SSTATUS_SUM)) || !(pte & PTE_A)) {
      return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
    }
    const offsetBits = BigInt(12 + 9 * level);
    if (level > 0 && (ppn & ((1n << BigInt(9 * level)) - 1n))) return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
    const pa = ((ppn << 12n) & ~((1n << offsetBits) - 1n)) | (va & ((1n << offsetBits) - 1n));
    const v = readPhys64(ram, pa);
    return v === null ? { ok: false, cause: CAUSE_LOAD_ACCESS } : { ok: true, value: v };
  }
  return { ok: false, cause: CAUSE_LOAD_PAGE_FAULT };
}
