/**
 * The guest-physical RAM map as the hart sees it: a short list of regions (the VM's memory slots)
 * searched linearly; slots are few and the software TLB absorbs almost every lookup.
 */
import type { RamRegion } from './contract.js';

export class RamMap {
  regions: RamRegion[] = [];

  set(regions: RamRegion[]): void {
    this.regions = regions.slice();
  }

  /** Index of the region holding guest physical address `pa` (a number below 2^53), or -1. */
  find(pa: number): number {
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i];
      if (pa >= r.base && pa < r.base + r.size) return i;
    }
    return -1;
  }
}
