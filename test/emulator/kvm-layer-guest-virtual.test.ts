/**
 * The software KVM's read through the guest's address translation (sbi/guest-virtual.ts, used for
 * legacy SBI v0.1 hart-mask pointers): bare mode, Sv39 and Sv48 walks with hand-built page tables
 * (priv spec §4.3.2), and the faults a guest would take.
 */
import { describe, expect, it } from 'vitest';
import type { RamRegion } from '../../lib/backend/emulator/cpu/contract.js';
import {
  CAUSE_LOAD_ACCESS, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_PAGE_FAULT, readGuestVirtual64,
} from '../../lib/backend/emulator/sbi/guest-virtual.js';

const BASE = 0x8000_0000;
const SIZE = 1 << 20;
const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
const SUM = 1n << 18n, MXR = 1n << 19n;

function ram(): { regions: RamRegion[]; view: DataView } {
  const buf = new ArrayBuffer(SIZE);
  const view = new DataView(buf);
  return { regions: [{ base: BASE, size: SIZE, bytes: new Uint8Array(buf), view, readonly: false, dirty: null }], view };
}
const pte = (pa: number, flags: bigint) => ((BigInt(pa) >> 12n) << 10n) | flags;
const put = (view: DataView, pa: number, v: bigint) => view.setBigUint64(pa - BASE, v, true);

describe('readGuestVirtual64', () => {
  it('bare mode reads physical memory; outside RAM is an access fault; misaligned is reported', () => {
    const { regions, view } = ram();
    put(view, BASE + 0x100, 0x1234n);
    expect(readGuestVirtual64(regions, 0n, 0n, BigInt(BASE + 0x100))).toEqual({ ok: true, value: 0x1234n });
    expect(readGuestVirtual64(regions, 0n, 0n, 0x1000n)).toEqual({ ok: false, cause: CAUSE_LOAD_ACCESS });
    expect(readGuestVirtual64(regions, 0n, 0n, BigInt(BASE + 4))).toEqual({ ok: false, cause: CAUSE_LOAD_MISALIGNED });
  });

  it('walks Sv39 (4 KiB leaf) and Sv48 (2 MiB megapage), honouring V, R, U/SUM, MXR and A', () => {
    const { regions, view } = ram();
    const root = BASE + 0x1000, l1 = BASE + 0x2000, l0 = BASE + 0x3000, data = BASE + 0x4000;
    put(view, data + 8, 0xfeedn);
    // Sv39: va 0x4000_5008 → vpn2 = 1, vpn1 = 0, vpn0 = 5
    put(view, root + 1 * 8, pte(l1, V));
    put(view, l1 + 0 * 8, pte(l0, V));
    put(view, l0 + 5 * 8, pte(data, V | R | A | D));
    put(view, l0 + 6 * 8, pte(data, V | R)); // A clear → fault (Svade)
    put(view, l0 + 7 * 8, pte(data, V | R | A | U)); // user page
    put(view, l0 + 8 * 8, pte(data, V | X | A)); // execute-only
    const satp39 = (8n << 60n) | BigInt(root / 4096);
    expect(readGuestVirtual64(regions, satp39, 0n, 0x4000_5008n)).toEqual({ ok: true, value: 0xfeedn });
    expect(readGuestVirtual64(regions, satp39, 0n, 0x4000_6008n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT });
    expect(readGuestVirtual64(regions, satp39, 0n, 0x4000_7008n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT });
    expect(readGuestVirtual64(regions, satp39, SUM, 0x4000_7008n)).toEqual({ ok: true, value: 0xfeedn });
    expect(readGuestVirtual64(regions, satp39, 0n, 0x4000_8008n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT });
    expect(readGuestVirtual64(regions, satp39, MXR, 0x4000_8008n)).toEqual({ ok: true, value: 0xfeedn });
    expect(readGuestVirtual64(regions, satp39, 0n, 0x4000_9008n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT }); // invalid
    expect(readGuestVirtual64(regions, satp39, 0n, 0x80_0000_0000n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT }); // not canonical

    // Sv48 with a 2 MiB megapage at level 1: va 0x20_0010 → vpn3 = 0, vpn2 = 0, vpn1 = 1
    const r48 = BASE + 0x10000, m2 = BASE + 0x11000, m1 = BASE + 0x12000;
    put(view, r48, pte(m2, V));
    put(view, m2, pte(m1, V));
    put(view, m1 + 8, pte(BASE, V | R | A)); // 2 MiB aligned target: RAM base
    put(view, m1 + 16, pte(BASE + 0x1000, V | R | A)); // misaligned superpage → fault
    const satp48 = (9n << 60n) | BigInt(r48 / 4096);
    expect(readGuestVirtual64(regions, satp48, 0n, 0x20_4008n)).toEqual({ ok: true, value: 0xfeedn });
    expect(readGuestVirtual64(regions, satp48, 0n, 0x40_0000n)).toEqual({ ok: false, cause: CAUSE_LOAD_PAGE_FAULT });
  });
});
