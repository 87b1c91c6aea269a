import { describe, expect, it } from 'vitest';
import { machine, R, StopReason, u64, s64, BASE } from './cpu-harness.js';

const M64 = (1n << 64n) - 1n;
const sx32 = (v: bigint): bigint => u64(BigInt.asIntN(32, v));
const values: bigint[] = [
  0n, 1n, 2n, 3n, 31n, 32n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x123456789abcdef0n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, u64(-2n), u64(-7n),
  0xfedcba9876543210n, 0x00000000deadbeefn, u64(-0x80000000n),
];

function divS(a: bigint, b: bigint): bigint {
  const sa = s64(a), sb = s64(b);
  if (sb === 0n) return M64;
  if (sa === -(1n << 63n) && sb === -1n) return a;
  return u64(sa / sb);
}
function remS(a: bigint, b: bigint): bigint {
  const sa = s64(a), sb = s64(b);
  if (sb === 0n) return a;
  if (sa === -(1n << 63n) && sb === -1n) return 0n;
  return u64(sa % sb);
}
const w = (a: bigint): bigint => BigInt.asIntN(32, a);
const uw = (a: bigint): bigint => BigInt.asUintN(32, a);

/** Reference semantics (unprivileged spec) of register-register ops on u64 inputs. */
const ops: Record<string, (a: bigint, b: bigint) => bigint> = {
  add: (a, b) => u64(a + b),
  sub: (a, b) => u64(a - b),
  sll: (a, b) => u64(a << (b & 63n)),
  srl: (a, b) => a >> (b & 63n),
  sra: (a, b) => u64(s64(a) >> (b & 63n)),
  slt: (a, b) => (s64(a) < s64(b) ? 1n : 0n),
  sltu: (a, b) => (a < b ? 1n : 0n),
  xor: (a, b) => a ^ b,
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  addw: (a, b) => sx32(a + b),
  subw: (a, b) => sx32(a - b),
  sllw: (a, b) => sx32(a << (b & 31n)),
  srlw: (a, b) => sx32(uw(a) >> (b & 31n)),
  sraw: (a, b) => sx32(w(a) >> (b & 31n)),
  mul: (a, b) => u64(a * b),
  mulh: (a, b) => u64((s64(a) * s64(b)) >> 64n),
  mulhu: (a, b) => u64((a * b) >> 64n),
  mulhsu: (a, b) => u64((s64(a) * b) >> 64n),
  div: divS,
  divu: (a, b) => (b === 0n ? M64 : a / b),
  rem: remS,
  remu: (a, b) => (b === 0n ? a : a % b),
  mulw: (a, b) => sx32(a * b),
  divw: (a, b) => {
    const x = w(a), y = w(b);
    if (y === 0n) return M64;
    if (x === -(1n << 31n) && y === -1n) return sx32(x);
    return sx32(x / y);
  },
  divuw: (a, b) => (uw(b) === 0n ? M64 : sx32(uw(a) / uw(b))),
  remw: (a, b) => {
    const x = w(a), y = w(b);
    if (y === 0n) return sx32(x);
    if (x === -(1n << 31n) && y === -1n) return 0n;
    return sx32(x % y);
  },
  remuw: (a, b) => (uw(b) === 0n ? sx32(a) : sx32(uw(a) % uw(b))),
};

describe('RV64IM register-register instructions', () => {
  const names = Object.keys(ops);
  // One program: block k = "<op k> a2, a0, a1; ecall", 8 bytes each (no compression).
  const src = '.option norvc\n' + names.map((n) => `${n} a2, a0, a1\necall`).join('\n');
  const { hart } = machine(src);
  for (const [k, name] of names.entries()) {
    it(`${name} matches the spec on ${values.length}^2 operand pairs`, () => {
      for (const a of values) {
        for (const b of values) {
          hart.pc = BigInt(BASE + 8 * k);
          hart.setX(R.a0, a);
          hart.setX(R.a1, b);
          expect(hart.run(10)).toBe(StopReason.EcallS);
          const got = hart.getX(R.a2);
          if (got !== ops[name](a, b)) {
            expect.fail(`${name} 0x${a.toString(16)}, 0x${b.toString(16)}: got 0x${got.toString(16)}, want 0x${ops[name](a, b).toString(16)}`);
          }
        }
      }
    });
  }
});

describe('RV64I register-immediate instructions', () => {
  const imms = [0, 1, -1, 5, -2048, 2047, 0x555, -0x556];
  const shamts = [0, 1, 13, 31, 32, 33, 63];
  const shamtsW = [0, 1, 17, 31];
  type Case = { asm: string; ref: (a: bigint) => bigint };
  const cases: Case[] = [];
  for (const i of imms) {
    const I = BigInt(i), IU = u64(I);
    cases.push({ asm: `addi a2, a0, ${i}`, ref: (a) => u64(a + I) });
    cases.push({ asm: `slti a2, a0, ${i}`, ref: (a) => (s64(a) < I ? 1n : 0n) });
    cases.push({ asm: `sltiu a2, a0, ${i}`, ref: (a) => (a < IU ? 1n : 0n) });
    cases.push({ asm: `xori a2, a0, ${i}`, ref: (a) => a ^ IU });
    cases.push({ asm: `ori a2, a0, ${i}`, ref: (a) => a | IU });
    cases.push({ asm: `andi a2, a0, ${i}`, ref: (a) => a & IU });
    cases.push({ asm: `addiw a2, a0, ${i}`, ref: (a) => sx32(a + I) });
  }
  for (const s of shamts) {
    const S = BigInt(s);
    cases.push({ asm: `slli a2, a0, ${s}`, ref: (a) => u64(a << S) });
    cases.push({ asm: `srli a2, a0, ${s}`, ref: (a) => a >> S });
    cases.push({ asm: `srai a2, a0, ${s}`, ref: (a) => u64(s64(a) >> S) });
  }
  for (const s of shamtsW) {
    const S = BigInt(s);
    cases.push({ asm: `slliw a2, a0, ${s}`, ref: (a) => sx32(a << S) });
    cases.push({ asm: `srliw a2, a0, ${s}`, ref: (a) => sx32(uw(a) >> S) });
    cases.push({ asm: `sraiw a2, a0, ${s}`, ref: (a) => sx32(w(a) >> S) });
  }
  for (const v of [0, 1, 0x7ffff, 0x80000, 0xfffff, 0x12345]) {
    cases.push({ asm: `lui a2, ${v}`, ref: () => sx32(BigInt(v) << 12n) });
  }
  const src = '.option norvc\n' + cases.map((c) => `${c.asm}\necall`).join('\n');
  it(`${cases.length} immediate forms match the spec`, () => {
    const { hart } = machine(src);
    for (const [k, c] of cases.entries()) {
      for (const a of values) {
        hart.pc = BigInt(BASE + 8 * k);
        hart.setX(R.a0, a);
        expect(hart.run(10)).toBe(StopReason.EcallS);
        const got = hart.getX(R.a2);
        if (got !== c.ref(a)) expect.fail(`${c.asm} with a0=0x${a.toString(16)}: got 0x${got.toString(16)}, want 0x${c.ref(a).toString(16)}`);
      }
    }
  });

  it('writes to x0 are discarded', () => {
    const { hart } = machine('.option norvc\naddi x0, x0, 5\nadd x0, a0, a0\nlui x0, 1\nmv a2, x0\necall');
    hart.setX(R.a0, 7n);
    expect(hart.run(10)).toBe(StopReason.EcallS);
    expect(hart.getX(0)).toBe(0n);
    expect(hart.getX(R.a2)).toBe(0n);
  });
});

describe('control transfer', () => {
  it('auipc, jal, jalr link and target; branches taken and not taken (signed/unsigned)', () => {
    const { hart } = machine(`
      .option norvc
      auipc a0, 0          # a0 = BASE
      auipc a1, 1          # a1 = BASE + 4 + 0x1000
      jal ra, 1f
      li s0, 99            # skipped
    1:
      la t0, 2f
      jalr t1, 4(t0)       # lands on 2f+4
    2:
      li s1, 99
      li s2, 0
      li t2, -1
      li t3, 1
      blt t2, t3, 3f       # signed -1 < 1: taken
      addi s2, s2, 1
    3: bltu t2, t3, 4f     # unsigned: not taken
      addi s2, s2, 2
    4: bge t3, t2, 5f      # taken
      addi s2, s2, 4
    5: bgeu t3, t2, 6f     # not taken
      addi s2, s2, 8
    6: beq t2, t2, 7f
      addi s2, s2, 16
    7: bne t2, t2, 8f      # not taken
      addi s2, s2, 32
    8: ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(BigInt(BASE));
    expect(hart.getX(R.a1)).toBe(BigInt(BASE + 4 + 0x1000));
    expect(hart.getX(R.ra)).toBe(BigInt(BASE + 12));
    expect(hart.getX(R.s0)).toBe(0n);
    expect(hart.getX(R.s1)).toBe(0n);
    expect(hart.getX(R.s2)).toBe(2n + 8n + 32n);
    expect(hart.getX(R.t1)).toBe(hart.getX(R.t0)); // jalr links to the next instruction = label 2
  });

  it('jalr clears bit 0 of the target and reads rs1 before writing rd', () => {
    const { hart } = machine(`
      .option norvc
      la a0, 1f
      addi a0, a0, 1
      jalr a0, 0(a0)
      li a1, 5
    1: ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a1)).toBe(0n);
    expect(hart.pc).toBe(hart.getX(R.a0) + 4n);
  });

  it('jumps and counts across pages and keeps full 64-bit pcs', () => {
    const { hart } = machine(`
      .option norvc
      li a0, 0
      li a1, 3000
    1: addi a0, a0, 1
      bne a0, a1, 1b
      j far
      .balign 4096
      .skip 4088
    far:
      addi a2, zero, 7     # crosses into the next page sequentially
      addi a3, zero, 8
      addi a4, zero, 9
      ecall
    `);
    expect(hart.run(100_000)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(3000n);
    expect(hart.getX(R.a4)).toBe(9n);
    expect(hart.instret).toBe(1 + 2 + 3000 * 2 + 1 + 3); // li a1, 3000 is lui + addiw
  });
});

describe('RVC', () => {
  const program = `
    li sp, 0x80080000
    li a0, 5
    addi a0, a0, -3
    slli a1, a0, 40
    srli a2, a1, 3
    srai a3, a1, 60
    andi a3, a3, 0x1f
    mv a4, a3
    add a4, a4, a0
    sub a5, a4, a0
    xor a5, a5, a2
    or a5, a5, a0
    and a5, a5, a1
    addw a6, a0, a2
    subw a7, a0, a2
    addiw s0, a6, -1
    lui s1, 0x1f
    sd a5, 8(sp)
    sw a4, 16(sp)
    ld s2, 8(sp)
    lw s3, 16(sp)
    addi sp, sp, -64
    sd a1, 0(sp)
    ld s4, 0(sp)
    addi s5, sp, 16
    la t0, 1f
    jalr t0
    j 2f
  1: addi t1, zero, 21
    ret
  2: beqz zero, 3f
    li t2, 1
  3: bnez a0, 4f
    li t2, 2
  4: sw a0, 4(s5)
    ld t3, 0(s5)
    ecall
  `;
  it('the compressed encoding of a program computes what the uncompressed one does', () => {
    const full = machine(`.option norvc\n${program}`);
    const compact = machine(`.option rvc\n${program}`);
    expect(full.hart.run(1000)).toBe(StopReason.EcallS);
    expect(compact.hart.run(1000)).toBe(StopReason.EcallS);
    for (let n = 1; n < 32; n++) {
      if (n === R.ra || n === R.t0) continue; // code addresses differ
      expect(compact.hart.getX(n), `x${n}`).toBe(full.hart.getX(n));
    }
    expect(full.hart.getX(R.t1)).toBe(21n);
    expect(full.hart.getX(R.t2)).toBe(0n);
    expect(compact.hart.pc - BigInt(BASE)).toBeLessThan(full.hart.pc - BigInt(BASE)); // really compressed
    expect(compact.hart.instret).toBe(full.hart.instret);
  });

  it('each c.* instruction equals its 32-bit expansion (registers and memory)', () => {
    // [compressed, expansion]; s0/s1 point at scratch memory, sp at a stack buffer.
    const pairs: [string, string][] = [
      ['c.addi4spn a0, sp, 16', 'addi a0, sp, 16'],
      ['c.lw a1, 4(s0)', 'lw a1, 4(s0)'],
      ['c.ld a2, 8(s0)', 'ld a2, 8(s0)'],
      ['c.sw a3, 12(s1)', 'sw a3, 12(s1)'],
      ['c.sd a4, 16(s1)', 'sd a4, 16(s1)'],
      ['c.addi a5, -7', 'addi a5, a5, -7'],
      ['c.addiw a6, 31', 'addiw a6, a6, 31'],
      ['c.li a7, -32', 'addi a7, zero, -32'],
      ['c.addi16sp sp, -96', 'addi sp, sp, -96'],
      ['c.lui t3, 0xfffe1', 'lui t3, 0xfffe1'],
      ['c.srli a0, 13', 'srli a0, a0, 13'],
      ['c.srai a1, 33', 'srai a1, a1, 33'],
      ['c.andi a2, -3', 'andi a2, a2, -3'],
      ['c.sub a3, a4', 'sub a3, a3, a4'],
      ['c.xor a4, a5', 'xor a4, a4, a5'],
      ['c.or a5, a0', 'or a5, a5, a0'],
      ['c.and a0, a1', 'and a0, a0, a1'],
      ['c.subw a1, a2', 'subw a1, a1, a2'],
      ['c.addw a2, a3', 'addw a2, a2, a3'],
      ['c.slli t4, 45', 'slli t4, t4, 45'],
      ['c.lwsp t5, 8(sp)', 'lw t5, 8(sp)'],
      ['c.ldsp t6, 16(sp)', 'ld t6, 16(sp)'],
      ['c.swsp t4, 24(sp)', 'sw t4, 24(sp)'],
      ['c.sdsp t3, 32(sp)', 'sd t3, 32(sp)'],
      ['c.mv s2, a0', 'add s2, zero, a0'],
      ['c.add s3, a1', 'add s3, s3, a1'],
    ];
    const prologue = (mem: string) => `
      .option norvc
      la s0, ${mem}
      addi s1, s0, 64
      addi sp, s0, 256
    `;
    const src = (k: 0 | 1): string =>
      `${prologue('mem')}\n${k === 0 ? '.option rvc' : ''}\n${pairs.map((p) => p[k]).join('\n')}\n.option norvc\necall\n.balign 8\nmem: .fill 64, 8, 0x0123456789abcdef`;
    const a = machine(src(0));
    const b = machine(src(1));
    expect(a.hart.run(1000)).toBe(StopReason.EcallS);
    expect(b.hart.run(1000)).toBe(StopReason.EcallS);
    for (let n = 1; n < 32; n++) {
      if ([R.s0, R.s1, R.sp].includes(n as 8 | 9 | 2)) continue; // addresses differ by code size
      expect(a.hart.getX(n), `x${n}`).toBe(b.hart.getX(n));
    }
    expect(a.hart.pc - BigInt(BASE)).toBeLessThan(b.hart.pc - BigInt(BASE)); // really compressed
    expect(a.hart.getX(R.s1) - a.hart.getX(R.s0)).toBe(64n);
    const memA = a.ram.bytes.subarray(Number(a.hart.getX(R.s0)) - BASE, Number(a.hart.getX(R.s0)) - BASE + 512);
    const memB = b.ram.bytes.subarray(Number(b.hart.getX(R.s0)) - BASE, Number(b.hart.getX(R.s0)) - BASE + 512);
    expect(Array.from(memA)).toEqual(Array.from(memB));
  });

  it('c.j, c.jal-free jumps, c.beqz/c.bnez, c.jr, c.jalr link by 2', () => {
    const { hart } = machine(`
      .option rvc
      li a0, 0
      c.j 1f
      li a0, 99
    1: c.beqz a0, 2f
      li a0, 98
    2: li s0, 5
      c.bnez s0, 3f
      li a0, 97
    3: la t0, 4f
      c.jalr t0
      c.li a1, 9
      .option norvc
      ecall
      .option rvc
    4: mv a2, ra
      c.jr ra
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0n);
    expect(hart.getX(R.a1)).toBe(9n);
    expect(hart.pc - hart.getX(R.a2)).toBe(2n); // ra = c.jalr + 2 = the c.li
  });

  it('a 32-bit instruction straddling a page boundary executes', () => {
    const { hart } = machine(`
      .option rvc
      j 1f
      .balign 4096
      .skip 4094 - 4096 + 4096 - 2
    1: c.nop
      addi a0, zero, 0x123   # starts at page offset 0xffe
      c.li a1, 7
      ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0x123n);
    expect(hart.getX(R.a1)).toBe(7n);
  });
});

describe('op numbering', () => {
  it('the interpreter and the decoder declare the same Op values', async () => {
    // Under vitest both const enums exist as runtime objects (esbuild emits them per module).
    const decode = (await import('../../lib/backend/emulator/cpu/decode.js')) as unknown as { Op: Record<string, number> };
    const hart = (await import('../../lib/backend/emulator/cpu/hart.js')) as unknown as { Op: Record<string, number> };
    expect(Object.keys(decode.Op).length).toBeGreaterThan(80);
    expect(hart.Op).toEqual(decode.Op);
  });
});
