import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine, u64 } from './cpu-harness.js';
import { ramRegion } from '../support/rvasm.js';

const SCAUSE = 0x142, STVAL = 0x143;
const DATA = BASE + 0x10000;

describe('loads and stores to RAM', () => {
  it('every width, sign- and zero-extension', () => {
    const { hart, ram } = machine(`
      li s0, ${DATA}
      lb a0, 0(s0)
      lbu a1, 0(s0)
      lh a2, 0(s0)
      lhu a3, 0(s0)
      lw a4, 0(s0)
      lwu a5, 0(s0)
      ld a6, 0(s0)
      li t0, 0x1122334455667788
      sd t0, 8(s0)
      sw t0, 16(s0)
      sh t0, 20(s0)
      sb t0, 22(s0)
      ld a7, -8+16(s0)
      ecall
    `);
    ram.view.setBigUint64(0x10000, 0x80f0e0d0c0b0a090n ^ 0x0000000000000000n, true);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(u64(BigInt.asIntN(8, 0x90n)));
    expect(hart.getX(R.a1)).toBe(0x90n);
    expect(hart.getX(R.a2)).toBe(u64(BigInt.asIntN(16, 0xa090n)));
    expect(hart.getX(R.a3)).toBe(0xa090n);
    expect(hart.getX(R.a4)).toBe(u64(BigInt.asIntN(32, 0xc0b0a090n)));
    expect(hart.getX(R.a5)).toBe(0xc0b0a090n);
    expect(hart.getX(R.a6)).toBe(0x80f0e0d0c0b0a090n);
    expect(ram.view.getBigUint64(0x10008, true)).toBe(0x1122334455667788n);
    expect(ram.view.getBigUint64(0x10010, true)).toBe(0x0088778855667788n);
    expect(hart.getX(R.a7)).toBe(0x1122334455667788n);
  });

  it('misaligned accesses to RAM are performed, also across a page boundary', () => {
    const { hart, ram } = machine(`
      li s0, ${DATA + 0xffd}
      li t0, 0x0102030405060708
      sd t0, 0(s0)           # bytes 0xffd..0x1004: crosses into the next page
      ld a0, 0(s0)
      lw a1, 1(s0)
      lh a2, 2(s0)
      li s1, ${DATA + 0x101}
      sw t0, 0(s1)
      lwu a3, 0(s1)
      ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(ram.view.getBigUint64(0x10ffd, true)).toBe(0x0102030405060708n);
    expect(hart.getX(R.a0)).toBe(0x0102030405060708n);
    expect(hart.getX(R.a1)).toBe(0x04050607n);
    expect(hart.getX(R.a2)).toBe(0x0506n);
    expect(hart.getX(R.a3)).toBe(0x05060708n);
  });

  it('stores mark the dirty bitmap of a logged region (every page written, once per page)', () => {
    const logged = ramRegion(0x9000_0000, 0x10000, { dirty: true });
    const { hart } = machine(`
      li s0, 0x90000000
      sd zero, 0(s0)
      sd zero, 8(s0)
      li t0, 0x3000
      add s1, s0, t0
      sw zero, 0(s1)
      sb zero, 0x7ff(s1)
      li t0, 0x9000 - 2
      add s1, s0, t0
      sw zero, 0(s1)         # straddles pages 8 and 9
      ld a0, 0x100(s0)       # loads mark nothing
      ecall
    `, { extra: [logged] });
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(Array.from(logged.dirty!)).toEqual([0b0000_1001, 0b0000_0011]);
  });
});

describe('MMIO stops', () => {
  const MMIO = 0x1000_0000;
  it('loads outside RAM stop with the access as KVM reports it; completion extends and advances', () => {
    const { hart } = machine(`
      .option norvc
      li s0, ${MMIO}
      lb a0, 3(s0)
      lhu a1, 2(s0)
      lw a2, 4(s0)
      ld a3, 8(s0)
      .option rvc
      c.lw a4, 4(s0)
      .option norvc
      lbu zero, 0(s0)
      ecall
    `);
    const expectations: [number, number, boolean, number, bigint, bigint, 2 | 4][] = [
      [3, 1, true, R.a0, 0x80n, u64(-128n), 4],
      [2, 2, false, R.a1, 0xfffff00dn, 0xf00dn, 4],
      [4, 4, true, R.a2, 0x87654321n, u64(BigInt.asIntN(32, 0x87654321n)), 4],
      [8, 8, true, R.a3, 0xfedcba9876543210n, 0xfedcba9876543210n, 4],
      [4, 4, true, R.a4, 0x7fffffffn, 0x7fffffffn, 2],
      [0, 1, false, 0, 0x55n, 0n, 4],
    ];
    for (const [off, len, signed, rd, value, want, insnLength] of expectations) {
      const pcBefore = hart.run(100) === StopReason.Mmio ? hart.pc : -1n;
      expect(pcBefore).not.toBe(-1n);
      expect(hart.mmio).toEqual({ address: BigInt(MMIO + off), length: len, isWrite: false, data: 0n, rd, signed, insnLength });
      hart.completeMmio(value);
      expect(hart.pc).toBe(pcBefore + BigInt(insnLength));
      if (rd !== 0) expect(hart.getX(rd)).toBe(want);
    }
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(0)).toBe(0n);
  });

  it('stores outside RAM and to read-only RAM stop with the data; read-only RAM is still readable', () => {
    const rom = ramRegion(0x2000_0000, 0x1000, { readonly: true });
    rom.view.setUint32(0x10, 0xcafef00d, true);
    const { hart } = machine(`
      li s0, ${MMIO}
      li t0, 0x1122334455667788
      sb t0, 1(s0)
      sh t0, 2(s0)
      sw t0, 4(s0)
      sd t0, 8(s0)
      li s1, 0x20000000
      lwu a0, 0x10(s1)
      sw t0, 0x10(s1)
      ecall
    `, { extra: [rom] });
    const want: [number, number, bigint][] = [
      [MMIO + 1, 1, 0x88n], [MMIO + 2, 2, 0x7788n], [MMIO + 4, 4, 0x55667788n], [MMIO + 8, 8, 0x1122334455667788n],
      [0x2000_0010, 4, 0x55667788n],
    ];
    for (const [address, length, data] of want) {
      expect(hart.run(100)).toBe(StopReason.Mmio);
      expect(hart.mmio).toMatchObject({ address: BigInt(address), length, isWrite: true, data, insnLength: 4 });
      hart.completeMmio();
    }
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0xcafef00dn);
    expect(rom.view.getUint32(0x10, true)).toBe(0xcafef00d);
  });

  it('misaligned MMIO stops with MisalignedMmio (also a RAM access straddling into non-RAM)', () => {
    const a = machine(`li s0, ${MMIO}\n lw a0, 2(s0)`);
    expect(a.hart.run(100)).toBe(StopReason.MisalignedMmio);
    const b = machine(`li s0, ${BASE + (1 << 20) - 2}\n lw a0, 0(s0)`);
    expect(b.hart.run(100)).toBe(StopReason.MisalignedMmio);
  });
});

describe('A extension', () => {
  it('LR/SC succeeds on a reserved address and fails after another SC or on another address', () => {
    const { hart, ram } = machine(`
      li s0, ${DATA}
      li t0, 42
      lr.d a0, (s0)
      sc.d a1, t0, (s0)      # succeeds: a1 = 0
      sc.d a2, t0, (s0)      # no reservation: a2 = 1
      lr.w a3, (s0)
      sc.w a4, t0, 8(s0)     # (offset not allowed) placeholder replaced below
      ecall
    `.replace('sc.w a4, t0, 8(s0)     # (offset not allowed) placeholder replaced below', 'addi s1, s0, 8\n sc.w a4, t0, (s1)'));
    ram.view.setBigUint64(0x10000, 7n, true);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(7n);
    expect(hart.getX(R.a1)).toBe(0n);
    expect(hart.getX(R.a2)).toBe(1n);
    expect(hart.getX(R.a3)).toBe(42n);
    expect(hart.getX(R.a4)).toBe(1n);
    expect(ram.view.getBigUint64(0x10000, true)).toBe(42n);
    expect(ram.view.getUint32(0x10008, true)).toBe(0);
  });

  it('a trap between LR and SC drops the reservation', () => {
    const { hart } = machine(`
      .option norvc
      la t0, handler
      csrw stvec, t0
      li s0, ${DATA}
      lr.d a0, (s0)
      ebreak
      sc.d a1, a0, (s0)
      ecall
    handler:
      csrr t0, sepc
      addi t0, t0, 4
      csrw sepc, t0
      sret
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a1)).toBe(1n);
  });

  const M64 = (1n << 64n) - 1n;
  const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
  const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
  const amoRef: Record<string, (m: bigint, v: bigint) => bigint> = {
    amoswap: (_m, v) => v,
    amoadd: (m, v) => m + v,
    amoxor: (m, v) => m ^ v,
    amoand: (m, v) => m & v,
    amoor: (m, v) => m | v,
    amomin: (m, v) => (s64(m) < s64(v) ? m : v),
    amomax: (m, v) => (s64(m) > s64(v) ? m : v),
    amominu: (m, v) => (m < v ? m : v),
    amomaxu: (m, v) => (m > v ? m : v),
  };
  const operands = [0n, 1n, M64, 0x8000000000000000n, 0x7fffffff80000000n, 0x00000000ffffffffn, 0x123456789n];
  for (const size of ['d', 'w'] as const) {
    it(`AMO*.${size}: memory gets op(old, rs2), rd gets the old value (sign-extended for .w)`, () => {
      const names = Object.keys(amoRef);
      const src = '.option norvc\n' + names.map((n) => `${n}.${size} a0, a1, (s0)\necall`).join('\n');
      const { hart, ram } = machine(src);
      const bits = size === 'd' ? 64 : 32;
      for (const [k, name] of names.entries()) {
        for (const m of operands) {
          for (const v of operands) {
            const mem = BigInt.asUintN(bits, m);
            if (size === 'd') ram.view.setBigUint64(0x10000, mem, true);
            else ram.view.setUint32(0x10000, Number(mem), true);
            hart.pc = BigInt(BASE + 8 * k);
            hart.setX(R.s0, BigInt(DATA));
            hart.setX(R.a1, v);
            expect(hart.run(10)).toBe(StopReason.EcallS);
            const stored = size === 'd' ? ram.view.getBigUint64(0x10000, true) : BigInt(ram.view.getUint32(0x10000, true));
            let want: bigint;
            if (size === 'd') want = BigInt.asUintN(64, amoRef[name](mem, v));
            else {
              // .w: operate on 32-bit values; min/max signedness per the op, on sign-extended words.
              const a = name.endsWith('u') ? mem : u64(s32(mem));
              const b = name.endsWith('u') ? BigInt.asUintN(32, v) : u64(s32(v));
              want = BigInt.asUintN(32, amoRef[name](a, b));
            }
            if (stored !== want) expect.fail(`${name}.${size} mem=0x${mem.toString(16)} v=0x${v.toString(16)}: 0x${stored.toString(16)} != 0x${want.toString(16)}`);
            expect(hart.getX(R.a0)).toBe(size === 'd' ? mem : u64(s32(mem)));
          }
        }
      }
    });
  }

  it('misaligned AMOs raise address-misaligned; AMOs outside RAM raise access faults', () => {
    const src = (insn: string, addr: number): string => `
      .option norvc
      la t0, handler
      csrw stvec, t0
      li s0, ${addr}
      ${insn}
    handler: ecall`;
    const cases: [string, number, bigint][] = [
      ['lr.w a0, (s0)', DATA + 2, 4n],
      ['sc.d a0, a1, (s0)', DATA + 4, 6n],
      ['amoadd.w a0, a1, (s0)', DATA + 1, 6n],
      ['amoadd.d a0, a1, (s0)', 0x1000_0000, 7n],
      ['lr.d a0, (s0)', 0x1000_0000, 5n],
    ];
    for (const [insn, addr, cause] of cases) {
      const { hart } = machine(src(insn, addr));
      expect(hart.run(100), insn).toBe(StopReason.EcallS);
      expect(hart.getCsr(SCAUSE), insn).toBe(cause);
      expect(hart.getCsr(STVAL), insn).toBe(BigInt(addr));
    }
  });
});
