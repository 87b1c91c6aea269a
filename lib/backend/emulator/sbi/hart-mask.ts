/**
 * The hart-mask convention of SBI v0.2+ calls (SBI spec v2.0 §3.1 "hart_mask, hart_mask_base"):
 * bit i of hart_mask names hart hart_mask_base + i; hart_mask_base = -1 (all ones) names every hart.
 * Iteration is over the VM's vCPUs in creation order, as kvm_for_each_vcpu does.
 */
import type { KernelVcpu } from '../kernel-vcpu.js';

const ALL = 0xffff_ffff_ffff_ffffn;

export interface MaskSelection {
  targets: KernelVcpu[];
  /** Bits of hart_mask that matched a vCPU (for IPI's INVALID_PARAM check). */
  matched: bigint;
  /** A vCPU id beyond base + 63 was reached (KVM stops the IPI walk there). */
  overflowed: boolean;
}

export function selectHarts(vcpus: readonly KernelVcpu[], mask: bigint, base: bigint): MaskSelection {
  const targets: KernelVcpu[] = [];
  let matched = 0n;
  if (base === ALL) return { targets: [...vcpus], matched, overflowed: false };
  for (const v of vcpus) {
    const id = BigInt(v.id);
    if (id < base) continue;
    const bit = id - base;
    if (bit >= 64n) return { targets, matched, overflowed: true };
    if (!(mask & (1n << bit))) continue;
    targets.push(v);
    matched |= 1n << bit;
  }
  return { targets, matched, overflowed: false };
}
