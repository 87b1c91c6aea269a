import { describe, expect, it } from 'vitest';
import { Hart } from '../../lib/backend/emulator/cpu/hart.js';
import { StopReason } from '../../lib/backend/emulator/cpu/contract.js';
import { IRQ_S_TIMER } from '../../lib/backend/emulator/cpu/contract.js';
import { ramRegion } from '../support/rvasm.js';

/** xorshift32: deterministic, so a failure names its seed. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
}

const BASE = 0x8000_0000;

describe('untrusted guest code', () => {
  it('random instruction streams, page tables and CSR values never throw or hang the host', () => {
    for (let seed = 1; seed <= 24; seed++) {
      const next = rng(seed * 0x9e3779b9);
      const ram = ramRegion(BASE, 64 * 1024, { dirty: seed % 2 === 0 });
      // Random bytes, biased towards real encodings: mostly valid major opcodes and compressed.
      for (let o = 0; o < ram.size; o += 4) ram.view.setUint32(o, next(), true);
      const rom = ramRegion(BASE + 0x10_0000, 4096, { readonly: true });
      const hart = new Hart(0, { readTime: () => BigInt(next()) });
      hart.setRam([ram, rom]);
      hart.pc = BigInt(BASE + (next() % ram.size & ~1));
      hart.setCsr(0x105, BigInt(BASE + (next() % ram.size & ~3)));
      hart.setCsr(0x100, BigInt(next()) | (BigInt(next()) << 32n));
      hart.setCsr(0x104, 0x222n);
      if (seed % 3 === 0) hart.setCsr(0x180, (BigInt(8 + (seed % 2)) << 60n) | BigInt((BASE >>> 12) + (next() % 16)));
      let stops = 0;
      for (let round = 0; round < 100; round++) {
        const reason = hart.run(500);
        expect(reason >= StopReason.Budget && reason <= StopReason.Requested, `seed ${seed}`).toBe(true);
        switch (reason) {
          case StopReason.Mmio: hart.completeMmio(BigInt(next())); break;
          case StopReason.EcallS: hart.pc += 4n; break;
          case StopReason.FetchFault:
          case StopReason.MisalignedMmio:
            hart.pc = BigInt(BASE + (next() % ram.size & ~1));
            break;
          default: break;
        }
        if (reason !== StopReason.Budget) stops++;
        if (round % 25 === 0) hart.setPending(IRQ_S_TIMER, (next() & 1) === 1);
        if (round % 35 === 0) ram.view.setUint32(next() % ram.size & ~3, next(), true), hart.flushCode();
      }
      // A trap storm (e.g. stvec unmapped under a random satp) retires nothing but still returns.
      expect(hart.instret, `seed ${seed}`).toBeLessThanOrEqual(100 * 500);
      void stops;
      expect(rom.bytes.every((b) => b === 0), `seed ${seed}: read-only RAM untouched`).toBe(true);
    }
  });
});
