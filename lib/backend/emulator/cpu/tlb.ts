/**
 * A direct-mapped software TLB for one access kind (fetch, load or store), indexed by the low bits
 * of the virtual page number. An entry maps a virtual page (tagLo = VA[31:12] << 12, tagHi =
 * VA[63:32]) to a RAM region's DataView and the page's byte offset in it. Entries only exist for
 * translations whose permission checks passed for the current privilege, SUM and MXR, so the hart
 * flushes when any of those change (priv spec §4.3.2 allows caching anything sfence.vma would drop).
 *
 * The tag, offset and addr arrays may live in the VM's arena (arena.ts) so compiled WebAssembly
 * blocks (wasm-jit.ts) can check and use entries inline: addr is the page's absolute arena address,
 * 0 when the page's region is not in that arena (the block then side-exits to the interpreter).
 */

export const TLB_SIZE = 1024;
export const TLB_MASK = TLB_SIZE - 1;
/** Never equals `va & -4096` (low bits set), so an entry holding it never hits. */
export const TLB_INVALID = 1;

/** Bytes of the arena-resident arrays of one TLB (tagLo, tagHi, offset, addr). */
export const TLB_ARENA_BYTES = 4 * 4 * TLB_SIZE;

export class Tlb {
  readonly tagLo: Int32Array;
  readonly tagHi: Int32Array;
  /** Byte offset of the page inside its region's bytes. */
  readonly offset: Int32Array;
  /** Absolute arena address of the page, or 0 (not in the arena this TLB's hart uses). */
  readonly addr: Int32Array;
  /** Index of the region in the RAM map. */
  readonly region = new Int32Array(TLB_SIZE);
  readonly view: DataView[];

  /** `storage`: TLB_ARENA_BYTES of zeroed Int32Array (arena memory), else private arrays. */
  constructor(placeholder: DataView, storage?: Int32Array) {
    const words = storage ?? new Int32Array(4 * TLB_SIZE);
    if (words.length !== 4 * TLB_SIZE) throw new RangeError(`Tlb: storage must hold ${4 * TLB_SIZE} words`);
    this.tagLo = words.subarray(0, TLB_SIZE).fill(TLB_INVALID);
    this.tagHi = words.subarray(TLB_SIZE, 2 * TLB_SIZE);
    this.offset = words.subarray(2 * TLB_SIZE, 3 * TLB_SIZE);
    this.addr = words.subarray(3 * TLB_SIZE, 4 * TLB_SIZE);
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

  /** `addr`: the page's arena address (region arena base + offset), or 0. */
  fill(lo: number, hi: number, view: DataView, region: number, offset: number, addr: number): void {
    const t = (lo >>> 12) & TLB_MASK;
    this.tagLo[t] = lo & -4096;
    this.tagHi[t] = hi;
    this.view[t] = view;
    this.region[t] = region;
    this.offset[t] = offset;
    this.addr[t] = addr;
  }

  /** Make this TLB's entries a copy of another's (the hart parks one set per privilege mode). */
  copyFrom(other: Tlb): void {
    this.tagLo.set(other.tagLo);
    this.tagHi.set(other.tagHi);
    this.offset.set(other.offset);
    this.addr.set(other.addr); // compiled WebAssembly blocks address pages through it
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
