/**
 * The fuzzer's deterministic PRNG and value generators.
 *
 * sfc32 (Chris Doty-Humphrey's "small fast chaotic" generator, PractRand-clean) seeded through
 * splitmix32, so any u32 seed — including 0 — gives a well-mixed stream. Every case draws from its
 * own generator seeded by caseSeed(), so a failing case is replayed from one number.
 */

/** splitmix32 finaliser: a bijective u32 → u32 mix. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The seed of case `index` of target `name` under run seed `seed`. */
export function caseSeed(seed: number, name: string, index: number): number {
  let h = mix32(seed >>> 0);
  for (let i = 0; i < name.length; i++) h = mix32(h ^ name.charCodeAt(i));
  return mix32(h ^ mix32(index >>> 0));
}

const U64_MAX = (1n << 64n) - 1n;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = mix32(seed);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /**
   * A u64 biased towards the values that break range checks: 0, small numbers, powers of two and
   * their neighbours, all-ones, values near `anchors` (RAM bounds, device bases) and a plain random.
   */
  interestingU64(anchors: readonly bigint[] = []): bigint {
    switch (this.below(8)) {
      case 0: return BigInt(this.pick([0, 1, 2, 3, 4, 7, 8, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x7fffffff]));
      case 1: {
        const p = 1n << BigInt(this.below(64));
        return (p + BigInt(this.range(-1, 1))) & U64_MAX;
      }
      case 2: return (U64_MAX - BigInt(this.below(16))) & U64_MAX;
      case 3:
      case 4:
        if (anchors.length > 0) return (this.pick(anchors) + BigInt(this.range(-16, 16))) & U64_MAX;
        return this.u64();
      case 5: return BigInt(this.u32());
      case 6: return BigInt.asUintN(64, BigInt(this.u32() | 0)); // sign-extended 32-bit
      default: return this.u64();
    }
  }
}
