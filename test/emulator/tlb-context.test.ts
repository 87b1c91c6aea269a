/**
 * The software TLBs against the translation context (priv spec §4.1.1.2 SUM/MXR, §4.2.1
 * sfence.vma, §4.3.1 U bit): an entry filled under a permission must stop hitting as soon as the
 * permission is withdrawn, and changes that withdraw nothing must not cost walks (counted with
 * mmu.ts walkStats). Guest code runs at a kernel virtual address under Sv39 with 4 KiB leaves.
 */
import { describe, expect, it } from 'vitest';
import { BASE, R, StopReason, machine } from './cpu-harness.js';
import type { RamRegion } from '../../lib/backend/emulator/cpu/contract.js';
import type { Hart } from '../../lib/backend/emulator/cpu/hart.js';
import { walkStats } from '../../lib/backend/emulator/cpu/mmu.js';

const SCAUSE = 0x142, STVAL = 0x143, SATP = 0x180;
const V = 1, Rd = 2, W = 4, X = 8, U = 16, A = 64, D = 128;
const KVA = 0xffffffff80000000n;
const LOAD_PAGE_FAULT = 13n, STORE_PAGE_FAULT = 15n;
/** Physical pages for data, by offset from BASE. */
const DATA = 0x200000, DATA2 = 0x201000;

/** Sv39 page tables at BASE + 1 MiB, 4 KiB leaves (§4.4.1 PTE format). */
class Sv39 {
  private next = BASE + 0x100000;
  readonly root: number;
  constructor(private readonly ram: RamRegion) {
    this.root = this.alloc();
  }
  private alloc(): number {
    const pa = this.next;
    this.next += 4096;
    this.ram.bytes.fill(0, pa - BASE, pa - BASE + 4096);
    return pa;
  }
  /** Map va to the RAM page at BASE + offset; returns the leaf PTE's offset in RAM. */
  map(va: bigint, offset: number, flags: number): number {
    let table = this.root;
    for (let level = 2; level > 0; level--) {
      const at = table - BASE + Number((va >> BigInt(12 + 9 * level)) & 511n) * 8;
      let pte = this.ram.view.getBigUint64(at, true);
      if ((pte & 1n) === 0n) {
        pte = (BigInt(this.alloc() >>> 12) << 10n) | 1n;
        this.ram.view.setBigUint64(at, pte, true);
      }
      table = Number(pte >> 10n) * 4096;
    }
    const at = table - BASE + Number((va >> 12n) & 511n) * 8;
    this.ram.view.setBigUint64(at, (BigInt((BASE + offset) >>> 12) << 10n) | BigInt(flags), true);
    return at;
  }
  satp(): bigint {
    return (8n << 60n) | BigInt(this.root >>> 12);
  }
}

interface Guest { hart: Hart; ram: RamRegion; pt: Sv39; handler: bigint }

/** `body` runs in S mode at KVA with stvec = a handler that stops with ecall; the body's own
 * `ecall`s stop too (run again to continue after one). The code pages are mapped RWX. */
function guest(body: string): Guest {
  const m = machine(`
    .option norvc
    la t0, handler
    csrw stvec, t0
    ${body}
    ecall
    .balign 256
  handler:
    ecall
  `, { size: 4 << 20 });
  const pt = new Sv39(m.ram);
  pt.map(KVA, 0, V | Rd | W | X | A | D);
  m.hart.setCsr(SATP, pt.satp());
  m.hart.pc = KVA;
  return { hart: m.hart, ram: m.ram, pt, handler: KVA + BigInt(handlerOffset(m.ram)) };
}

/** The handler: the first ecall (0x00000073) at a 256-byte boundary (bodies are shorter). */
function handlerOffset(ram: RamRegion): number {
  for (let o = 256; o < 4096; o += 256) if (ram.view.getUint32(o, true) === 0x73) return o;
  throw new Error('no handler found');
}

function run(g: Guest, regs: Partial<Record<keyof typeof R, bigint>> = {}): void {
  for (const [name, v] of Object.entries(regs)) g.hart.setX(R[name as keyof typeof R], v);
  expect(g.hart.run(10_000)).toBe(StopReason.EcallS);
}

function expectFault(g: Guest, cause: bigint, stval: bigint): void {
  expect(g.hart.pc, 'stopped in the trap handler').toBe(g.handler);
  expect(g.hart.getCsr(SCAUSE)).toBe(cause);
  expect(g.hart.getCsr(STVAL)).toBe(stval);
}

describe('TLB entries allowed by sstatus.SUM or MXR', () => {
  const accesses: [string, bigint][] = [
    ['ld a0, 0(s0)', LOAD_PAGE_FAULT],
    ['sd a1, 0(s0)', STORE_PAGE_FAULT],
    ['amoadd.d a0, a1, (s0)', STORE_PAGE_FAULT],
    ['lr.d a0, (s0)', LOAD_PAGE_FAULT],
  ];
  for (const [access, cause] of accesses) {
    it(`a U page cached by "${access}" under SUM=1 faults once the guest clears SUM`, () => {
      const g = guest(`
        li t1, 0x40000
        csrs sstatus, t1
        ${access}
        ${access}
        csrc sstatus, t1
        ${access}
      `);
      g.pt.map(0x4000n, DATA, V | Rd | W | U | A | D);
      g.ram.view.setBigUint64(DATA, 40n, true);
      run(g, { s0: 0x4000n, a1: 1n });
      expectFault(g, cause, 0x4000n);
      // The two accesses under SUM did happen (a store or AMO left its mark).
      const expected = access.startsWith('sd') ? 1n : access.startsWith('amo') ? 42n : 40n;
      expect(g.ram.view.getBigUint64(DATA, true)).toBe(expected);
    });
  }

  it('a load from an execute-only page cached under MXR=1 faults once the guest clears MXR', () => {
    const g = guest(`
      li t1, 0x80000
      csrs sstatus, t1
      ld a0, 0(s0)
      ld a0, 0(s0)
      csrc sstatus, t1
      ld a0, 0(s0)
    `);
    g.pt.map(0x5000n, DATA, V | X | A);
    g.ram.view.setBigUint64(DATA + 16, 77n, true);
    run(g, { s0: 0x5010n });
    expectFault(g, LOAD_PAGE_FAULT, 0x5010n);
    expect(g.hart.getX(R.a0)).toBe(77n);
  });

  it('SUM cleared by the hypervisor (setCsr) drops them too', () => {
    const g = guest('ld a0, 0(s0)\n ecall\n ld a0, 0(s0)');
    g.pt.map(0x4000n, DATA, V | Rd | U | A);
    g.hart.setCsr(0x100, 1n << 18n);
    run(g, { s0: 0x4000n });
    expect(g.hart.pc).not.toBe(g.handler);
    g.hart.setCsr(0x100, 0n);
    g.hart.pc += 4n;
    run(g);
    expectFault(g, LOAD_PAGE_FAULT, 0x4000n);
  });

  it('toggling SUM and MXR costs no walk for S pages already cached', () => {
    const toggles = 'li t1, 0xc0000\n csrs sstatus, t1\n csrc sstatus, t1\n csrs sstatus, t1\n csrc sstatus, t1';
    const walks = (between: string): number => {
      const g = guest(`ld a0, 0(s0)\n sd a0, 8(s0)\n ${between}\n ld a0, 0(s0)\n sd a0, 8(s0)`);
      g.pt.map(0x6000n, DATA, V | Rd | W | A | D);
      const before = walkStats.walks;
      run(g, { s0: 0x6000n });
      expect(g.hart.pc).not.toBe(g.handler);
      return walkStats.walks - before;
    };
    const plain = walks('nop');
    expect(plain).toBeGreaterThan(0);
    expect(walks(toggles)).toBe(plain);
  });
});

describe('sfence.vma with an address (priv spec §4.2.1)', () => {
  it("drops that page's load and store translations and walks for nothing else", () => {
    const g = guest(`
      ld a0, 0(s0)
      ld a3, 0(s3)
      sd a1, 8(s0)
      ecall
      sfence.vma s0, zero
      ld a0, 0(s0)
      ld a3, 0(s3)
      sd a1, 8(s0)
    `);
    const leaf = g.pt.map(0x7000n, DATA, V | Rd | W | A | D);
    g.pt.map(0x8000n, DATA, V | Rd | A);
    g.ram.view.setBigUint64(DATA, 1n, true);
    g.ram.view.setBigUint64(DATA2, 2n, true);
    run(g, { s0: 0x7000n, s3: 0x8000n, a1: 5n });
    expect(g.hart.getX(R.a0)).toBe(1n);
    expect(g.ram.view.getBigUint64(DATA + 8, true)).toBe(5n);
    // Remap 0x7000 to the second data page: only the fenced page is walked again, once for the
    // load and once for the store TLB (a full flush would walk 0x8000 and the code page too).
    g.ram.view.setBigUint64(leaf, (BigInt((BASE + DATA2) >>> 12) << 10n) | BigInt(V | Rd | W | A | D), true);
    g.hart.pc += 4n;
    const before = walkStats.walks;
    run(g, { a1: 6n });
    expect(g.hart.pc).not.toBe(g.handler);
    expect(g.hart.getX(R.a0)).toBe(2n);
    expect(g.hart.getX(R.a3)).toBe(1n);
    expect(g.ram.view.getBigUint64(DATA2 + 8, true)).toBe(6n);
    expect(walkStats.walks - before).toBe(2);
  });

  it("drops that page's fetch translation", () => {
    // 0x9000 maps a function returning 1, then (after the remap and the fence) one returning 2.
    const g = guest(`
      jalr s0
      mv s2, a0
      ecall
      sfence.vma s0, zero
      jalr s0
    `);
    const leaf = g.pt.map(0x9000n, DATA, V | Rd | X | A);
    g.ram.view.setUint32(DATA, 0x00100513, true); // li a0, 1
    g.ram.view.setUint32(DATA + 4, 0x00008067, true); // ret
    g.ram.view.setUint32(DATA2, 0x00200513, true); // li a0, 2
    g.ram.view.setUint32(DATA2 + 4, 0x00008067, true);
    run(g, { s0: 0x9000n });
    expect(g.hart.getX(R.s2)).toBe(1n);
    g.ram.view.setBigUint64(leaf, (BigInt((BASE + DATA2) >>> 12) << 10n) | BigInt(V | Rd | X | A), true);
    g.hart.pc += 4n;
    run(g);
    expect(g.hart.pc).not.toBe(g.handler);
    expect(g.hart.getX(R.a0)).toBe(2n);
  });
});

describe('AMOs and LR/SC go through the TLBs', () => {
  it('a cached page takes no walk for further AMOs, and they still land in memory', () => {
    const g = guest(`
      amoadd.d a0, a1, (s0)
      ld a3, 0(s0)
      ecall
      amoadd.d a0, a1, (s0)
      amoor.d a0, a1, (s0)
      lr.d a0, (s0)
      sc.d a2, a1, (s0)
    `);
    g.pt.map(0xa000n, DATA, V | Rd | W | A | D);
    g.ram.view.setBigUint64(DATA, 8n, true);
    run(g, { s0: 0xa000n, a1: 1n });
    g.hart.pc += 4n;
    const before = walkStats.walks;
    run(g);
    expect(g.hart.pc).not.toBe(g.handler);
    expect(walkStats.walks - before).toBe(0);
    expect(g.hart.getX(R.a2)).toBe(0n); // sc succeeded
    expect(g.ram.view.getBigUint64(DATA, true)).toBe(1n);
  });

  it('an AMO to a page of decoded code does not let a later plain store skip invalidation', () => {
    // target is decoded by the first call; the AMO touches a data word on the same page; the plain
    // sw then rewrites target, which this hart must see without fence.i (hart.ts header).
    const g = guest(`
      la s5, target
      la s6, word
      jal target
      amoor.w zero, zero, (s6)
      li t2, 0x00200513
      sw t2, 0(s5)
      jal target
      j done
    target:
      li a0, 1
      ret
    word:
      .word 0
    done:
    `);
    run(g);
    expect(g.hart.pc).not.toBe(g.handler);
    expect(g.hart.getX(R.a0)).toBe(2n);
  });
});

/** Where twoModes() places each part (offsets from BASE; the code page is mapped at KVA for S
 * and at UVA for U). */
const UVA = 0x10000n;
const AT = { user1: 0x100, user2: 0x180, again: 0x200, again2: 0x280, handler: 0x300 };
/** S-mode code that drops to U mode at user2. */
const TO_USER2 = 'li t0, 0x10180\n csrw sepc, t0\n li t1, 0x100\n csrc sstatus, t1\n sret';

/** S code `s` runs at KVA, then srets to `user1` in U mode. Each part ends with ecall: from U it
 * traps to the handler, which stops the run (ecall in S); `again`/`again2` are S code to resume at. */
function twoModes(parts: { s?: string; user1: string; user2?: string; again?: string; again2?: string }): Guest {
  const m = machine(`
    .option norvc
    la t0, handler
    csrw stvec, t0
    ${parts.s ?? ''}
    li t0, ${Number(UVA) + AT.user1}
    csrw sepc, t0
    li t1, 0x100
    csrc sstatus, t1
    sret
    .org ${AT.user1}
    ${parts.user1}
    ecall
    .org ${AT.user2}
    ${parts.user2 ?? ''}
    ecall
    .org ${AT.again}
    ${parts.again ?? ''}
    ecall
    .org ${AT.again2}
    ${parts.again2 ?? ''}
    ecall
    .org ${AT.handler}
  handler:
    ecall
  `, { size: 4 << 20 });
  const pt = new Sv39(m.ram);
  pt.map(KVA, 0, V | Rd | W | X | A | D);
  pt.map(UVA, 0, V | Rd | X | U | A);
  m.hart.setCsr(SATP, pt.satp());
  m.hart.pc = KVA;
  return { hart: m.hart, ram: m.ram, pt, handler: KVA + BigInt(AT.handler) };
}

/** Continue in S mode at one of the `again` parts (the hart is in S after the trap). */
function resume(g: Guest, at: number, regs: Partial<Record<keyof typeof R, bigint>> = {}): void {
  expect(g.hart.mode).toBe(1);
  g.hart.pc = KVA + BigInt(at);
  run(g, regs);
}

describe('TLB entries across privilege changes (parked per mode)', () => {
  it("S's entry for an S page never serves U; it is still cached when S resumes", () => {
    const g = twoModes({ s: 'ld a0, 0(s0)', user1: 'ld a0, 0(s0)', again: 'ld a0, 0(s0)' });
    g.pt.map(0x4000n, DATA, V | Rd | A);
    g.ram.view.setBigUint64(DATA, 9n, true);
    run(g, { s0: 0x4000n });
    expectFault(g, LOAD_PAGE_FAULT, 0x4000n);
    g.hart.setX(R.a0, 0n);
    const before = walkStats.walks;
    resume(g, AT.again);
    expect(g.hart.pc).toBe(KVA + BigInt(AT.again + 4));
    expect(g.hart.getX(R.a0)).toBe(9n);
    expect(walkStats.walks - before, 'S code and data pages came back with S').toBe(0);
  });

  it("U's entry for a U page never serves S without SUM", () => {
    const g = twoModes({ user1: 'ld a0, 0(s0)\n sd a0, 8(s0)', again: 'ld a0, 0(s0)', again2: 'sd a0, 8(s0)' });
    g.pt.map(0x4000n, DATA, V | Rd | W | U | A | D);
    run(g, { s0: 0x4000n });
    expect(g.hart.getCsr(SCAUSE)).toBe(8n); // the user ecall
    resume(g, AT.again);
    expectFault(g, LOAD_PAGE_FAULT, 0x4000n);
    resume(g, AT.again2);
    expectFault(g, STORE_PAGE_FAULT, 0x4008n);
  });

  for (const fence of ['sfence.vma s0, zero', 'sfence.vma', 'csrr t0, satp\n csrw satp, t0\n sfence.vma']) {
    it(`"${fence.replace(/\n /g, '; ')}" in S reaches U's parked entries`, () => {
      const g = twoModes({ user1: 'ld a0, 0(s0)', again: `${fence}\n ${TO_USER2}`, user2: 'ld a0, 0(s0)' });
      const leaf = g.pt.map(0x4000n, DATA, V | Rd | U | A);
      g.ram.view.setBigUint64(DATA, 1n, true);
      g.ram.view.setBigUint64(DATA2, 2n, true);
      run(g, { s0: 0x4000n });
      expect(g.hart.getX(R.a0)).toBe(1n);
      g.ram.view.setBigUint64(leaf, (BigInt((BASE + DATA2) >>> 12) << 10n) | BigInt(V | Rd | U | A), true);
      resume(g, AT.again);
      expect(g.hart.getCsr(SCAUSE)).toBe(8n);
      expect(g.hart.getX(R.a0)).toBe(2n);
    });
  }

  it("a page that becomes code while U's entries are parked leaves U's store TLB", () => {
    // DATA is writable by U at 0x4000 and executable by S at 0x5000. U stores to it (its store
    // TLB caches the page), S then runs a function there (now decoded code), U rewrites the
    // function: that store must reach the slow path that drops the decoded copy, or S's second
    // call would run the stale instruction (this hart sees its own stores without fence.i).
    const g = twoModes({
      user1: 'sw a1, 0x400(s3)',
      again: `jalr s4\n mv s2, a0\n ${TO_USER2}`,
      user2: 'sw t2, 0(s3)',
      again2: 'jalr s4',
    });
    g.pt.map(0x4000n, DATA, V | Rd | W | U | A | D);
    g.pt.map(0x5000n, DATA, V | Rd | X | A);
    g.ram.view.setUint32(DATA, 0x00100513, true); // li a0, 1
    g.ram.view.setUint32(DATA + 4, 0x00008067, true); // ret
    run(g, { s3: 0x4000n, s4: 0x5000n, a1: 7n, t2: 0x00200513n /* li a0, 2 */ });
    expect(g.ram.view.getUint32(DATA + 0x400, true)).toBe(7);
    resume(g, AT.again);
    expect(g.hart.getX(R.s2)).toBe(1n);
    expect(g.hart.getCsr(SCAUSE)).toBe(8n);
    resume(g, AT.again2);
    expect(g.hart.getX(R.a0)).toBe(2n);
  });
});
