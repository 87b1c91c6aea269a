/**
 * Supervisor address translation (RISC-V privileged spec §4.3 "Sv32" algorithm, generalised by
 * §4.4 Sv39 and §4.5 Sv48): the page-table walk the software TLB falls back to.
 *
 * Choices the spec leaves to the implementation:
 *   - A/D bits are updated by the walk itself (the Svadu behaviour QEMU gives KVM guests): an access
 *     sets A, a store also sets D, and the PTE is written back before the access is performed.
 *     A PTE in read-only memory cannot be updated, so that access faults (access-fault cause).
 *   - Reserved encodings raise a page fault, per the current spec's step 3: bits 63:54 set (no
 *     Svnapot/Svpbmt here), W without R, and D/A/U set on a non-leaf PTE.
 *   - A PTE outside RAM raises an access fault of the access's kind (§4.3.2 step 2, PMA check).
 */
import type { RamMap } from './ram.js';
import {
  CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT, SATP_MODE_BARE, SATP_MODE_SV39,
} from './csr.js';

export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;
export type AccessKind = 0 | 1 | 2;

const PAGE_FAULT = [CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT];
const ACCESS_FAULT = [CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS];

const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;

/** Translation context: what the walk reads from the hart's state. */
export interface WalkContext {
  ram: RamMap;
  /** satp.MODE (0 Bare, 8 Sv39, 9 Sv48). */
  satpMode: number;
  /** satp.PPN (below 2^44, exact as a number). */
  satpPpn: number;
  /** Effective privilege of the access: 1 = S, 0 = U. */
  priv: number;
  sum: boolean;
  mxr: boolean;
  /** A/D updates this walker wrote to guest RAM (the hart's code-change check counts them). */
  pteWrites: number;
}

/**
 * Walk result: on success the physical page number, else the exception cause. On success also
 * what the permission check relied on, so the hart's TLBs know which entries a later change of
 * privilege, SUM or MXR invalidates: `user` = the leaf has U set (an S-mode data access to it was
 * allowed only by SUM), `viaMxr` = a load allowed only because MXR made an execute-only page
 * readable (§4.1.1.2 sstatus.SUM/MXR, §4.3.1 U bit). Both false in Bare mode.
 */
export const walkResult = { ppn: 0, cause: 0, user: false, viaMxr: false };

/** Page-table walks started since the process began, all harts together (Bare translations are
 * not walks). A statistic for tests and benchmarks: how much the TLBs are missing. */
export const walkStats = { walks: 0 };


/**
 * Translate the virtual address (lo, hi) for `access`. Returns true with walkResult.ppn set, or
 * false with walkResult.cause set (the caller reports stval = the virtual address).
 */
export function translate(ctx: WalkContext, lo: number, hi: number, access: AccessKind): boolean {
  if (ctx.satpMode === SATP_MODE_BARE) {
    // Physical addresses are at most 56 bits (§4.1.11 / §4.4.1); larger ones are no memory at all.
    if ((hi >>> 24) !== 0) {
      walkResult.cause = ACCESS_FAULT[access];
      return false;
    }
    walkResult.ppn = (hi >>> 0) * 1048576 + (lo >>> 12);
    walkResult.user = false;
    walkResult.viaMxr = false;
    return true;
  }
  walkStats.walks++;
  const levels = ctx.satpMode === SATP_MODE_SV39 ? 3 : 4;
  const vaBits = 12 + 9 * levels;
  // Bits 63:vaBits must all equal bit vaBits-1 (§4.4.1 / §4.5.1) or the address is not canonical.
  const top = hi >> (vaBits - 1 - 32);
  if (top !== 0 && top !== -1) {
    walkResult.cause = PAGE_FAULT[access];
    return false;
  }
  // The virtual page number as an exact number (at most 36 bits for Sv48).
  const vpn = (hi & ((1 << (vaBits - 32)) - 1)) * 1048576 + (lo >>> 12);
  const ram = ctx.ram;
  let tableBase = ctx.satpPpn * 4096;
  for (let level = levels - 1; level >= 0; level--) {
    // VPN[level] = VA[20 + 9 * level : 12 + 9 * level] (§4.4.1), straight from the two halves.
    const shift = 12 + 9 * level;
    const index = (shift >= 32 ? hi >>> (shift - 32) : shift > 23 ? (lo >>> shift) | (hi << (32 - shift)) : lo >>> shift) & 511;
    const pteAddr = tableBase + index * 8;
    const r = ram.find(pteAddr);
    if (r < 0) {
      walkResult.cause = ACCESS_FAULT[access];
      return false;
    }
    const region = ram.regions[r];
    const off = pteAddr - region.base;
    let pteLo = region.view.getInt32(off, true);
    const pteHi = region.view.getInt32(off + 4, true);
    if ((pteHi >>> 22) !== 0 || (pteLo & PTE_V) === 0 || (pteLo & (PTE_R | PTE_W)) === PTE_W) {
      walkResult.cause = PAGE_FAULT[access];
      return false;
    }
    const ppn = (pteHi & 0x3fffff) * 4194304 + (pteLo >>> 10);
    if ((pteLo & (PTE_R | PTE_X)) === 0) {
      // Pointer to the next level; D, A and U are reserved in non-leaf PTEs.
      if ((pteLo & (PTE_D | PTE_A | PTE_U)) !== 0 || level === 0) {
        walkResult.cause = PAGE_FAULT[access];
        return false;
      }
      tableBase = ppn * 4096;
      continue;
    }
    // Leaf: permission checks (§4.3.2 step 5, with SUM/MXR from §4.1.1.2).
    const user = (pteLo & PTE_U) !== 0;
    let allowed: boolean;
    if (access === ACCESS_FETCH) {
      // S mode may never execute from a user page, whatever SUM says.
      allowed = (pteLo & PTE_X) !== 0 && (ctx.priv === 0 ? user : !user);
    } else {
      const modeOk = ctx.priv === 0 ? user : !user || ctx.sum;
      const permOk = access === ACCESS_LOAD
        ? (pteLo & PTE_R) !== 0 || (ctx.mxr && (pteLo & PTE_X) !== 0)
        : (pteLo & PTE_W) !== 0;
      allowed = modeOk && permOk;
    }
    const span = 2 ** (9 * level); // pages covered by this leaf
    if (!allowed || (level > 0 && ppn % span !== 0)) {
      // Misaligned superpage (§4.3.2 step 6) or permission denied.
      walkResult.cause = PAGE_FAULT[access];
      return false;
    }
    const needed = access === ACCESS_STORE ? PTE_A | PTE_D : PTE_A;
    if ((pteLo & needed) !== needed) {
      if (region.readonly) {
        walkResult.cause = ACCESS_FAULT[access];
        return false;
      }
      pteLo |= needed;
      region.view.setInt32(off, pteLo, true);
      ctx.pteWrites++;
      if (region.dirty !== null) {
        const page = Math.floor(off / 4096);
        region.dirty[page >>> 3] |= 1 << (page & 7);
      }
    }
    walkResult.ppn = ppn + (vpn % span);
    walkResult.user = user;
    walkResult.viaMxr = access === ACCESS_LOAD && (pteLo & PTE_R) === 0;
    return true;
  }
  walkResult.cause = PAGE_FAULT[access];
  return false;
}
