/**
 * MMIO exits (kvm-riscv-abi.md §2.5): every integer load/store outside the memory slots exits with
 * the address, length and little-endian store data; the value user space supplies for a load is
 * truncated to the access size and extended as the instruction says (RV64I §5.3 LB/LH/LW sign-,
 * LBU/LHU/LWU zero-extend); compressed accesses advance the pc by 2 (RVC §16.3).
 *
 * Known host-kernel bug: Linux 6.12's kvm_riscv_vcpu_mmio_return() (arch/riscv/kvm/vcpu_insn.c)
 * computes `(ulong)data << shift >> shift`, an unsigned shift, so LB/LH/LW/C.LW results arrive
 * zero-extended; mainline later casts to long before the right shift. Observed in the rig on
 * Debian's 6.12.117. On the kvm backend the test accepts that one deviation (and says so); the
 * emulator is held to the ISA.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { describeBackends } from '../support/backends.js';
import { mmioValue, reportPairs, runUntil, withProgram } from '../support/guest.js';

/** What user space answers for each load address of guest/src/mmio.S. */
const LOAD_VALUES = new Map<bigint, bigint>([
  [0x10000020n, 0x0123456789abcdefn], // ld
  [0x10000028n, 0x80n], // lb
  [0x10000030n, 0x8001n], // lh
  [0x10000038n, 0x80000001n], // lw
  [0x10000040n, 0x80n], // lbu
  [0x10000048n, 0x8001n], // lhu
  [0x10000050n, 0x80000001n], // lwu
  [0x10000064n, 0xfffffffen], // c.lw
  [0x10000068n, 0x8877665544332211n], // c.ld
  [0x10000070n, 0x1ffn], // lbu given more than a byte
]);

/** What Linux 6.12 delivers instead for the sign-extending loads (see the file comment). */
const KVM_612_ZERO_EXTENDED: ReadonlyMap<string, string> = new Map([
  ['report 2 0xffffffffffffff80', 'report 2 0x80'],
  ['report 3 0xffffffffffff8001', 'report 3 0x8001'],
  ['report 4 0xffffffff80000001', 'report 4 0x80000001'],
  ['report 8 0xfffffffffffffffe', 'report 8 0xfffffffe'],
]);

/** The exits guest/src/mmio.S must produce, in order (stores with their data). */
const EXPECTED = [
  'write 0x10000000/8 = 0x1122334455667788',
  'write 0x10000008/4 = 0x55667788',
  'write 0x10000010/2 = 0x7788',
  'write 0x10000018/1 = 0x88',
  'write 0x84000000/4 = 0x5a5a5a5a',
  'read 0x10000020/8', 'report 1 0x123456789abcdef',
  'read 0x10000028/1', 'report 2 0xffffffffffffff80',
  'read 0x10000030/2', 'report 3 0xffffffffffff8001',
  'read 0x10000038/4', 'report 4 0xffffffff80000001',
  'read 0x10000040/1', 'report 5 0x80',
  'read 0x10000048/2', 'report 6 0x8001',
  'read 0x10000050/4', 'report 7 0x80000001',
  'write 0x10000060/4 = 0xcafe1234',
  'read 0x10000064/4', 'report 8 0xfffffffffffffffe',
  'read 0x10000068/8', 'report 9 0x8877665544332211',
  'read 0x10000070/1', 'report 10 0xff',
  'system_event shutdown',
];

describeBackends((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('stores and loads outside every slot exit with address, length, data; loads are extended per instruction', async () => {
    await withProgram(hv, 'mmio', {}, async (p) => {
      const seen: string[] = [];
      const run = await runUntil(p.vcpu, {
        mmio(exit, vcpu) {
          const where = `0x${exit.address.toString(16)}/${exit.length}`;
          if (exit.isWrite) {
            expect(exit.data.length).toBeGreaterThanOrEqual(exit.length);
            seen.push(`write ${where} = 0x${mmioValue(exit).toString(16)}`);
          } else {
            seen.push(`read ${where}`);
            const value = LOAD_VALUES.get(exit.address);
            expect(value, `unexpected load from ${where}`).toBeDefined();
            vcpu.setMmioLoad(value!);
          }
        },
        report(r, _exit, vcpu) {
          seen.push(`report ${r.tag} 0x${r.args[0]!.toString(16)}`);
          vcpu.setSbiReturn(0, 0);
        },
        systemEvent(exit) { seen.push(`system_event ${exit.type}`); return 'stop'; },
      });
      const kvm612 = EXPECTED.map((line) => KVM_612_ZERO_EXTENDED.get(line) ?? line);
      if (backend.kind === 'kvm' && JSON.stringify(seen) === JSON.stringify(kvm612)) {
        console.log('[kvm] host kernel zero-extends signed MMIO loads (Linux 6.12 kvm_riscv_vcpu_mmio_return bug)');
        expect(seen).toEqual(kvm612);
      } else {
        expect(seen).toEqual(EXPECTED);
      }
      expect(reportPairs(run.reports).map(([tag]) => tag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  it('stores to a read-only slot exit as MMIO writes; loads read the slot; memory stays unchanged', async () => {
    await withProgram(hv, 'dirty', {}, async (p) => {
      expect(p.vm.capabilities.readonlyMemory).toBe(true);
      const base = 0x90000000n; // guest/src/dirty.S DIRTY_BASE
      const slot = p.vm.setMemoryRegion({ slot: 1, guestPhysAddr: base, size: 16 * 4096, readonly: true });
      expect(slot.readonly).toBe(true);
      const seen: string[] = [];
      const run = await runUntil(p.vcpu, {
        mmio(exit) {
          expect(exit.isWrite).toBe(true);
          seen.push(`write 0x${exit.address.toString(16)}/${exit.length} = 0x${mmioValue(exit).toString(16)}`);
        },
        report(r, _exit, vcpu) { seen.push(`report ${r.tag}`); vcpu.setSbiReturn(0, 0); },
      });
      expect(seen).toEqual([
        'write 0x90000000/8 = 0xd1d2d3d4d5d6d7d8',
        'write 0x90003008/8 = 0xd1d2d3d4d5d6d7d8',
        'write 0x90005fff/1 = 0xd8',
        'report 1',
        'write 0x90007000/4 = 0xd5d6d7d8',
        'write 0x90000004/4 = 0xd5d6d7d8',
        'report 2',
      ]);
      expect(run.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
      expect(slot.readBytes(base, 16 * 4096).every((b) => b === 0)).toBe(true);
    });
  });
});
