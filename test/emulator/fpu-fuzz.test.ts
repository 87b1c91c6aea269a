/**
 * The guest is untrusted: any 32-bit word with an FP major opcode and any register contents must
 * either execute (x0 stays zero, frm is untouched, only fflags can gain bits) or be refused with
 * nothing written — never throw or hang.
 */

import { describe, expect, it } from 'vitest';
import { exec, machine, rng } from './fpu-support.js';

const OPCODES = [0x43, 0x47, 0x4b, 0x4f, 0x53];

describe('fpExecute on arbitrary words', () => {
  it('never throws; refusals write nothing; executions keep x0 and frm', () => {
    const next = rng(0xf422);
    let executed = 0;
    let refused = 0;
    for (let i = 0; i < 20000; i++) {
      const m = machine(next() % 8);
      for (let r = 0; r < 64; r++) {
        // Mix special words (all ones, NaN/inf exponents, zero) with random ones.
        const k = next() % 6;
        m.st.f[r] = k === 0 ? -1 : k === 1 ? 0x7ff00000 : k === 2 ? 0 : next() | 0;
        m.x[r] = r < 2 ? 0 : next() | 0;
      }
      m.st.fcsr |= next() & 0x1f;
      const insn = ((next() & ~0x7f) | OPCODES[next() % OPCODES.length]!) >>> 0;
      const f = m.st.f.slice();
      const x = m.x.slice();
      const fcsr = m.st.fcsr;
      const ok = exec(m, i & 1 ? insn | 0 : insn);
      if (ok) {
        executed++;
        expect([m.x[0], m.x[1]]).toEqual([0, 0]);
        expect(m.st.fcsr & ~0x1f).toBe(fcsr & ~0x1f);
        expect(m.st.fcsr & fcsr).toBe(fcsr); // flags only accumulate
      } else {
        refused++;
        expect(m.st.f).toEqual(f);
        expect(m.x).toEqual(x);
        expect(m.st.fcsr).toBe(fcsr);
      }
    }
    // Both outcomes must really occur for the test to mean anything.
    expect(executed).toBeGreaterThan(2000);
    expect(refused).toBeGreaterThan(2000);
  });
});
