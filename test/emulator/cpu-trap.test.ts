import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine, u64, withHandler } from './cpu-harness.js';
import { IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER } from '../../lib/backend/emulator/cpu/contract.js';

const SSTATUS = 0x100, SIE = 0x104, STVEC = 0x105, SCOUNTEREN = 0x106, SENVCFG = 0x10a;
const SSCRATCH = 0x140, SEPC = 0x141, SCAUSE = 0x142, STVAL = 0x143, SIP = 0x144, SATP = 0x180;
const INTERRUPT = 1n << 63n;

const HANDLER = BASE + 16;
/** Address of the first instruction of `body`. */
const BODY = BASE + 32;

/** Enter U mode at label `user` (sret with SPP = 0). */
const toUser = `
  li t0, 0x100
  csrc sstatus, t0
  la t0, user
  csrw sepc, t0
  sret
`;

describe('exceptions: cause, sepc, stval', () => {
  it('illegal instruction: stval holds the instruction bits (32-bit and compressed)', () => {
    const cases: [string, bigint][] = [
      ['.word 0xffffffff', 0xffffffffn],
      ['mret', 0x30200073n],
      ['csrr a0, mstatus', 0x30002573n],
      ['csrr a0, hstatus', 0x60002573n],
      ['csrr a0, 0x14d', 0x14d02573n], // stimecmp: no Sstc here
      ['csrw cycle, a0', 0xc0051073n], // read-only CSR written
      ['.half 0x4002', 0x4002n], // c.lwsp x0: reserved
      ['.word 0x0000707f', 0x707fn], // LOAD-FP... no: major opcode 0x7f reserved
    ];
    for (const [insn, bits] of cases) {
      const { hart } = machine(withHandler(`fault: ${insn}\n nop`));
      expect(hart.run(100), insn).toBe(StopReason.EcallS);
      expect(hart.getCsr(SCAUSE), insn).toBe(2n);
      expect(hart.getCsr(STVAL), insn).toBe(bits);
      expect(hart.getCsr(SEPC), insn).toBe(BigInt(BODY));
    }
  });

  it('ebreak: cause 3, stval = sepc = its address; c.ebreak too', () => {
    for (const insn of ['ebreak', '.option rvc\nc.ebreak\n.option norvc']) {
      const { hart } = machine(withHandler(`${insn}\n nop`));
      expect(hart.run(100)).toBe(StopReason.EcallS);
      expect(hart.getCsr(SCAUSE)).toBe(3n);
      expect(hart.getCsr(SEPC)).toBe(BigInt(BODY));
      expect(hart.getCsr(STVAL)).toBe(BigInt(BODY));
    }
  });

  it('ecall from U traps with cause 8; ecall from S stops with pc on the ecall', () => {
    const { hart } = machine(withHandler(`${toUser}\nuser: li a0, 1\n ecall\n`));
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(8n);
    expect(hart.getCsr(SEPC)).toBe(BigInt(BODY + 24 + 4));
    expect(hart.getCsr(SSTATUS) & 0x100n).toBe(0n); // SPP = U
    expect(hart.mode).toBe(1);
    // The stop: pc still on the handler's ecall, instruction not retired.
    expect(hart.pc).toBe(BigInt(HANDLER));
  });

  it('access faults for addresses beyond the 56-bit physical space (load, store, fetch)', () => {
    const load = machine(withHandler('li t1, -8\n ld a0, 0(t1)'));
    expect(load.hart.run(100)).toBe(StopReason.EcallS);
    expect(load.hart.getCsr(SCAUSE)).toBe(5n);
    expect(load.hart.getCsr(STVAL)).toBe(u64(-8n));
    const store = machine(withHandler('li t1, -8\n sd a0, 0(t1)'));
    expect(store.hart.run(100)).toBe(StopReason.EcallS);
    expect(store.hart.getCsr(SCAUSE)).toBe(7n);
    const fetch = machine(withHandler('li t1, -8\n jr t1'));
    expect(fetch.hart.run(100)).toBe(StopReason.EcallS);
    expect(fetch.hart.getCsr(SCAUSE)).toBe(1n);
    expect(fetch.hart.getCsr(STVAL)).toBe(u64(-8n));
    expect(fetch.hart.getCsr(SEPC)).toBe(u64(-8n));
  });

  it('a fetch outside RAM stops with FetchFault and pc on the target', () => {
    const { hart } = machine('li t0, 0x1000\n jr t0');
    expect(hart.run(100)).toBe(StopReason.FetchFault);
    expect(hart.pc).toBe(0x1000n);
  });

  it('sret returns to SPP with SIE = SPIE, SPIE = 1, SPP = U; sret and wfi in U are illegal', () => {
    const { hart } = machine(withHandler(`
      li t0, 0x122          # SPP | SPIE | SIE... SIE cleared below
      csrs sstatus, t0
      li t0, 0x2
      csrc sstatus, t0
      la t0, 1f
      csrw sepc, t0
      sret
    1: csrr s0, sstatus
      ${toUser}
    user: wfi
    `));
    expect(hart.run(100)).toBe(StopReason.EcallS);
    const afterSret = hart.getX(R.s0);
    expect(afterSret & 0x2n).toBe(2n); // SIE from SPIE
    expect(afterSret & 0x20n).toBe(0x20n); // SPIE = 1
    expect(afterSret & 0x100n).toBe(0n); // SPP = U
    expect(hart.getCsr(SCAUSE)).toBe(2n);
    expect(hart.getCsr(STVAL)).toBe(0x10500073n);
  });
});

describe('CSRs', () => {
  it('sstatus: UXL reads 2, only SIE/SPIE/SPP/FS/SUM/MXR are writable, SD follows FS', () => {
    const { hart } = machine('li t0, -1\n csrw sstatus, t0\n csrr a0, sstatus\n csrw sstatus, zero\n csrr a1, sstatus\n ecall');
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe((1n << 63n) | (2n << 32n) | 0x2n | 0x20n | 0x100n | 0x6000n | 0x40000n | 0x80000n);
    expect(hart.getX(R.a1)).toBe(2n << 32n);
  });

  it('sie/sip WARL: SSIP writable from the guest, STIP/SEIP only through setPending', () => {
    const { hart } = machine('li t0, -1\n csrw sie, t0\n csrr a0, sie\n csrw sip, t0\n csrr a1, sip\n csrw sip, zero\n csrr a2, sip\n ecall');
    hart.setPending(IRQ_S_TIMER, true);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0x222n);
    expect(hart.getX(R.a1)).toBe(0x22n);
    expect(hart.getX(R.a2)).toBe(0x20n);
  });

  it('stvec, sepc, scounteren, senvcfg, sscratch, scause, stval WARL rules', () => {
    const { hart } = machine('ecall');
    hart.setCsr(STVEC, 0x80001003n);
    expect(hart.getCsr(STVEC)).toBe(0x80001001n); // reserved mode 3 -> vectored
    hart.setCsr(SEPC, 0xffffffff80000001n);
    expect(hart.getCsr(SEPC)).toBe(0xffffffff80000000n);
    hart.setCsr(SCOUNTEREN, 0xffffffffn);
    expect(hart.getCsr(SCOUNTEREN)).toBe(7n);
    hart.setCsr(SENVCFG, u64(-1n));
    expect(hart.getCsr(SENVCFG)).toBe(1n);
    for (const csr of [SSCRATCH, SCAUSE, STVAL]) {
      hart.setCsr(csr, 0x123456789abcdef0n);
      expect(hart.getCsr(csr)).toBe(0x123456789abcdef0n);
    }
    expect(() => hart.getCsr(0x300)).toThrow(RangeError);
  });

  it('satp: unsupported modes leave it untouched (the Linux Sv57 -> Sv48 -> Sv39 probe); ASID reads 0', () => {
    const { hart } = machine(`
      li t0, 0xa000000000080100   # Sv57
      csrw satp, t0
      csrr a0, satp
      li t0, 0x9000000000080100   # Sv48 (table page all zero: nothing executes from it yet)
      li t1, 0x8000000000080100   # Sv39
      li t2, 0x8fff000000080100   # Sv39 with ASID all ones
      li t3, 0x5000000000080100   # reserved mode
      ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0n);
    hart.setCsr(SATP, hart.getX(R.t0));
    expect(hart.getCsr(SATP)).toBe(0x9000000000080100n);
    hart.setCsr(SATP, hart.getX(R.t2));
    expect(hart.getCsr(SATP)).toBe(0x8000000000080100n);
    hart.setCsr(SATP, hart.getX(R.t3));
    expect(hart.getCsr(SATP)).toBe(0x8000000000080100n);
    hart.setCsr(SATP, 0n);
    expect(hart.getCsr(SATP)).toBe(0n);
  });

  it('time/cycle/instret: rdtime reads env time; U-mode reads gated by scounteren', () => {
    const src = withHandler(`
      rdtime a0
      rdinstret a1
      csrw scounteren, zero
      ${toUser}
    user:
      rdcycle a2
    `);
    const { hart, time } = machine(src);
    time.now = 0x123456789n;
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a0)).toBe(0x123456789n);
    expect(hart.getX(R.a1)).toBe(5n); // j + la (2) + csrw + rdtime retired before it
    expect(hart.getCsr(SCAUSE)).toBe(2n);
    expect(hart.getCsr(STVAL)).toBe(0xc0002673n);
    // With scounteren.CY set the same read succeeds.
    const ok = machine(withHandler(`li t0, 1\n csrw scounteren, t0\n ${toUser}\n user: rdcycle a2\n ecall`));
    expect(ok.hart.run(100)).toBe(StopReason.EcallS);
    expect(ok.hart.getCsr(SCAUSE)).toBe(8n);
    expect(ok.hart.getX(R.a2)).toBeGreaterThan(5n);
  });

  it('S CSRs are illegal from U mode', () => {
    const { hart } = machine(withHandler(`${toUser}\nuser: csrr a0, sscratch`));
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(2n);
  });

  it('seed: illegal without Zkr; with Zkr a CsrExit reported as KVM does, then completed', () => {
    const src = withHandler('li a1, 0x55\n csrrw a0, seed, a1\n csrrs a2, seed, zero\n csrrci a3, seed, 3\n ecall');
    const off = machine(src);
    expect(off.hart.run(100)).toBe(StopReason.EcallS);
    expect(off.hart.getCsr(SCAUSE)).toBe(2n);
    expect(off.hart.getCsr(STVAL)).toBe(0x01559573n);

    const { hart } = machine(src);
    hart.zkr = true;
    expect(hart.run(100)).toBe(StopReason.CsrExit);
    expect(hart.csrExit).toEqual({ csrNum: 0x15, newValue: 0x55n, writeMask: u64(-1n), rd: R.a0 });
    hart.completeCsr(0x8000_1234n);
    expect(hart.getX(R.a0)).toBe(0x8000_1234n);
    expect(hart.run(100)).toBe(StopReason.CsrExit);
    expect(hart.csrExit).toEqual({ csrNum: 0x15, newValue: u64(-1n), writeMask: 0n, rd: R.a2 });
    hart.completeCsr(7n);
    expect(hart.run(100)).toBe(StopReason.CsrExit);
    expect(hart.csrExit).toEqual({ csrNum: 0x15, newValue: 0n, writeMask: 3n, rd: R.a3 });
    hart.completeCsr(9n);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getX(R.a2)).toBe(7n);
    expect(hart.getX(R.a3)).toBe(9n);
  });

  it('csrrw/csrrs/csrrc and immediate forms return the old value and write per Zicsr', () => {
    const { hart } = machine(`
      li t0, 0xf0f0
      csrw sscratch, t0
      li t1, 0x0ff0
      csrrs a0, sscratch, t1     # old f0f0 -> fff0
      csrrc a1, sscratch, t0     # old fff0 -> 0f00
      csrrw a2, sscratch, t1     # old 0f00 -> 0ff0
      csrrsi a3, sscratch, 0x1f  # old 0ff0 -> 0fff
      csrrci a4, sscratch, 0x3   # old 0fff -> 0ffc
      csrrwi a5, sscratch, 0x15  # old 0ffc -> 0x15
      csrrs a6, sscratch, zero   # read only
      csrrc a7, cycle, zero      # read-only CSR read without a write is fine
      ecall
    `);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6].map((r) => hart.getX(r))).toEqual(
      [0xf0f0n, 0xfff0n, 0x0f00n, 0x0ff0n, 0x0fffn, 0x0ffcn, 0x15n]);
    expect(hart.getCsr(SSCRATCH)).toBe(0x15n);
    expect(hart.getX(R.a7)).toBe(12n);
  });

  it('fences are no-ops; sfence.vma is illegal in U mode', () => {
    const ok = machine('fence\n fence rw, rw\n fence.tso\n .word 0x0100000f\n fence.i\n sfence.vma\n sfence.vma a0, a1\n ecall');
    expect(ok.hart.run(100)).toBe(StopReason.EcallS);
    expect(ok.hart.instret).toBe(7); // .word 0x0100000f is pause (Zihintpause)
    const u = machine(withHandler(`${toUser}\nuser: sfence.vma a0`));
    expect(u.hart.run(100)).toBe(StopReason.EcallS);
    expect(u.hart.getCsr(SCAUSE)).toBe(2n);
    expect(u.hart.getCsr(STVAL)).toBe(0x12050073n);
  });

  it('reset gives the KVM reset state', () => {
    const { hart } = machine('ecall');
    hart.setX(5, 1n);
    hart.setCsr(SSCRATCH, 5n);
    hart.setPending(IRQ_S_EXT, true);
    hart.reset();
    expect(hart.getX(5)).toBe(0n);
    expect(hart.pc).toBe(0n);
    expect(hart.mode).toBe(1);
    expect(hart.getCsr(SSTATUS)).toBe((2n << 32n) | 0x120n);
    expect(hart.getCsr(SCOUNTEREN)).toBe(7n);
    expect(hart.getCsr(SSCRATCH)).toBe(0n);
    expect(hart.interruptPending()).toBe(false);
    expect(hart.getCsr(SIP)).toBe(0n);
    expect(hart.getCsr(SIE)).toBe(0n);
  });
});

describe('interrupts', () => {
  const spin = (setup: string): string => withHandler(`${setup}\n loop: addi a0, a0, 1\n j loop`);

  it('taken when pending & enabled & SIE in S mode, with interrupt bit in scause and sepc = next pc', () => {
    const { hart } = machine(spin('li t0, 0x20\n csrw sie, t0\n csrsi sstatus, 2'));
    expect(hart.run(50)).toBe(StopReason.Budget);
    const before = hart.getX(R.a0);
    expect(before).toBeGreaterThan(0n);
    hart.setPending(IRQ_S_TIMER, true);
    expect(hart.interruptPending()).toBe(true);
    expect(hart.run(50)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(INTERRUPT | 5n);
    expect(hart.getCsr(STVAL)).toBe(0n);
    const sepc = hart.getCsr(SEPC);
    expect(sepc === BigInt(BODY + 12) || sepc === BigInt(BODY + 16)).toBe(true); // inside the loop
    const st = hart.getCsr(SSTATUS);
    expect(st & 2n).toBe(0n); // SIE cleared
    expect(st & 0x20n).toBe(0x20n); // SPIE = old SIE
    expect(st & 0x100n).toBe(0x100n); // from S
  });

  it('masked by sstatus.SIE in S mode, but always enabled in U mode', () => {
    const s = machine(spin('li t0, 0x200\n csrw sie, t0'));
    s.hart.setPending(IRQ_S_EXT, true);
    expect(s.hart.run(200)).toBe(StopReason.Budget);
    const u = machine(withHandler(`li t0, 0x200\n csrw sie, t0\n ${toUser}\n user: j user`));
    u.hart.setPending(IRQ_S_EXT, true);
    expect(u.hart.run(200)).toBe(StopReason.EcallS);
    expect(u.hart.getCsr(SCAUSE)).toBe(INTERRUPT | 9n);
    expect(u.hart.getCsr(SSTATUS) & 0x100n).toBe(0n);
  });

  it('priority SEI > SSI > STI, and a guest-set SSIP interrupts', () => {
    const { hart } = machine(spin('li t0, 0x222\n csrw sie, t0'));
    hart.setPending(IRQ_S_TIMER, true);
    hart.setPending(IRQ_S_SOFT, true);
    hart.setPending(IRQ_S_EXT, true);
    hart.setCsr(SSTATUS, 2n);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(INTERRUPT | 9n);
    hart.setPending(IRQ_S_EXT, false);
    hart.setCsr(SSTATUS, 2n);
    hart.pc = BigInt(BODY + 8);
    expect(hart.run(100)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(INTERRUPT | 1n);

    const guest = machine(spin('li t0, 2\n csrw sie, t0\n csrsi sstatus, 2\n csrsi sip, 2'));
    expect(guest.hart.run(100)).toBe(StopReason.EcallS);
    expect(guest.hart.getCsr(SCAUSE)).toBe(INTERRUPT | 1n);
    expect(guest.hart.getCsr(SEPC)).toBe(BigInt(BODY + 4 + 4 + 4 + 4)); // right after csrsi sip
  });

  it('vectored stvec sends interrupts to BASE + 4 * cause and exceptions to BASE', () => {
    const { hart } = machine(`
      .option norvc
      la t0, vec
      ori t0, t0, 1
      csrw stvec, t0
      li t0, 0x20
      csrw sie, t0
      csrsi sstatus, 2
    1: j 1b
      .balign 64
    vec:
      .rept 16
      ecall
      .endr
    `);
    expect(hart.run(50)).toBe(StopReason.Budget);
    hart.setPending(IRQ_S_TIMER, true);
    expect(hart.run(50)).toBe(StopReason.EcallS);
    const vec = hart.getCsr(STVEC) & ~3n;
    expect(hart.getCsr(SCAUSE)).toBe(INTERRUPT | 5n);
    expect(hart.pc).toBe(vec + 20n);
    // An exception (illegal instruction) goes to BASE even in vectored mode.
    hart.setPending(IRQ_S_TIMER, false);
    hart.setCsr(SSTATUS, 0n);
    hart.pc = vec + 64n; // just past the table: zero bytes = illegal instruction
    expect(hart.run(50)).toBe(StopReason.EcallS);
    expect(hart.getCsr(SCAUSE)).toBe(2n);
    expect(hart.pc).toBe(vec);
  });

  it('wfi stops with pc advanced; interruptPending ignores sstatus.SIE', () => {
    const { hart } = machine('li t0, 0x20\n csrw sie, t0\n wfi\n ecall');
    expect(hart.run(100)).toBe(StopReason.Wfi);
    expect(hart.pc).toBe(BigInt(BASE + 12));
    expect(hart.interruptPending()).toBe(false);
    hart.setPending(IRQ_S_TIMER, true);
    expect(hart.interruptPending()).toBe(true);
    expect(hart.run(100)).toBe(StopReason.EcallS); // SIE = 0: continues after the wfi
    expect(hart.instret).toBe(3);
  });

  it('stopRequested makes run() return Requested and is cleared', () => {
    const { hart } = machine('1: j 1b');
    hart.stopRequested = true;
    expect(hart.run(100)).toBe(StopReason.Requested);
    expect(hart.stopRequested).toBe(false);
    expect(hart.run(100)).toBe(StopReason.Budget);
    expect(hart.instret).toBe(100);
  });
});

void SENVCFG;
