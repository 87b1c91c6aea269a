/**
 * A direct-mapped software TLB for one access kind (fetch, load or store), indexed by the low bits
 * of the virtual page number. An entry maps a virtual page (tagLo = VA[31:12] << 12, tagHi =
 * VA[63:32]) to a RAM region's DataView and the page's byte offset in it. Entries only exist for
 * translations whose permission checks passed for the current privilege, SUM and MXR, so the hart
 * flushes when any of those change (priv spec §4.3.2 allows caching anything sfence.vma would drop).
 */

export const TLB_SIZE = 1024;
export const TLB_MASK = TLB_SIZE - 1;
/** Never equals `va & -4096` (low bits set), so an entry holding it never hits. */
export const TLB_INVALID = 1;

export class Tlb {
  readonly tagLo = new Int32Array(TLB_SIZE).fill(TLB_INVALID);
  readonly tagHi = new Int32Array(TLB_SIZE);
  /** Byte offset of the page inside its region's bytes. */
  readonly offset = new Int32Array(TLB_SIZE);
  /** Index of the region in the RAM map. */
  readonly region = new Int32Array(TLB_SIZE);
  readonly view: DataView[];

  constructor(placeholder: DataView) {
    this.view = new Array<DataView>(TLB_SIZE).fill(placeholder);
  }

  flush(): void {
    this.tagLo.fill(TLB_INVALID);
  }

  /** Drop whatever entry sits in slot t. */
  invalidateSlot(t: number): void {
    this.tagLo[t] = TLB_INVALID;
  }

  /** Drop the entry for the virtual page holding (lo, hi), if it is cached. */
  flushPage(lo: number, hi: number): void {
    const t = (lo >>> 12) & TLB_MASK;
    if (this.tagLo[t] === (lo & -4096) && this.tagHi[t] === hi) this.tagLo[t] = TLB_INVALID;
  }

  fill(lo: number, hi: number, view: DataView, region: number, offset: number): void {
    const t = (lo >>> 12) & TLB_MASK;
    this.tagLo[t] = lo & -4096;
    this.tagHi[t] = hi;
    this.view[t] = view;
    this.region[t] = region;
    this.offset[t] = offset;
  }

  /** Make this TLB's entries a copy of another's (the hart parks one set per privilege mode). */
  copyFrom(other: Tlb): void {
    this.tagLo.set(other.tagLo);
    this.tagHi.set(other.tagHi);
    this.offset.set(other.offset);
    this.region.set(other.region);
    // Only the live entries' views: an invalid slot's view is never read, and storing object
    // references (write barriers) is most of a copy's cost.
    const to = this.view, from = other.view, tags = other.tagLo;
    for (let t = 0; t < TLB_SIZE; t++) if (tags[t] !== TLB_INVALID) to[t] = from[t];
  }

  /** Drop every entry that maps the given physical page (region, byte offset). */
  purgePhysical(region: number, offset: number): void {
    for (let t = 0; t < TLB_SIZE; t++) {
      if (this.region[t] === region && this.offset[t] === offset) this.tagLo[t] = TLB_INVALID;
    }
  }
}

/**
 * The TLB slots whose entries were allowed by one piece of translation context (sstatus.SUM, say)
 * and must go when it is withdrawn, so that change drops those entries instead of whole TLBs. A
 * slot is listed when filled; the list only grows until drop() or clear(), and a slot listed
 * twice or refilled since with an unrelated page is only dropped needlessly, never kept wrongly.
 * Past its capacity the list stops tracking and drop() flushes the TLBs entirely.
 */
export class TlbSlotList {
  private readonly slots = new Uint16Array(TLB_SIZE);
  private count = 0;
  private overflowed = false;

  add(t: number): void {
    if (this.count < TLB_SIZE) this.slots[this.count++] = t;
    else this.overflowed = true;
  }

  /** Nothing listed: drop() would do nothing. */
  get empty(): boolean {
    return this.count === 0 && !this.overflowed;
  }

  /** Invalidate every listed slot in each of `tlbs` (all slots after an overflow); empty the list. */
  drop(tlbs: readonly Tlb[]): void {
    for (const tlb of tlbs) {
      if (this.overflowed) tlb.flush();
      else for (let k = 0; k < this.count; k++) tlb.invalidateSlot(this.slots[k]);
    }
    this.clear();
  }

  /** Forget the list (the TLBs it refers to were flushed entirely). */
  clear(): void {
    this.count = 0;
    this.overflowed = false;
  }
}
