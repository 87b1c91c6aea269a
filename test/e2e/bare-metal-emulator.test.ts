// runBareMetal in-process on the emulator backend: console paths the CLI does not switch on.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import { runBareMetal } from '../../lib/vmm/bare-metal.js';
import { createUserExtension } from '../../lib/sbi/index.js';
import { buildGuest, hasCrossBinutils, SBI_ASM, type BuiltGuest } from './guest-build.js';

const built: BuiltGuest[] = [];
afterAll(() => built.forEach((g) => g.cleanup()));
const elf = (src: string): Uint8Array => {
  const g = buildGuest(src);
  built.push(g);
  return new Uint8Array(readFileSync(g.elf));
};

const shutdownWith = (reg: string) => `
  li a7, ${SBI_ASM.SRST}
  li a6, 0
  li a0, 0
  mv a1, ${reg}
  ecall
1: j 1b
`;

describe.skipIf(!hasCrossBinutils)('runBareMetal on the emulator (skipped without riscv64 cross binutils)', () => {
  it('legacy console_putchar reaches the output when the VM forwards v0.1 calls (sbiV01)', async () => {
    const out: number[] = [];
    const image = elf(`
  .text
  .globl _start
_start:
  li a7, 1      # legacy console_putchar
  li a0, 'L'
  ecall
  mv s0, a0     # 0 on success
${shutdownWith('s0')}`);
    const res = await runBareMetal({
      hypervisor: createEmulator(), vmOptions: { sbiV01: true }, image, memorySize: 16 << 20, timeoutMs: 20_000,
      output: { write: (b) => { out.push(...b); } },
    });
    expect(Buffer.from(out).toString()).toBe('L');
    expect(res.result).toEqual({ kind: 'shutdown', reason: 0n });
  });

  it('a user vendor extension answers a guest hypercall, and probe_extension finds it', async () => {
    const image = elf(`
  .text
  .globl _start
_start:
  li a7, 0x10          # BASE probe_extension(0x09000123)
  li a6, 3
  li a0, 0x09000123
  ecall
  mv s1, a1            # probe value
  li a7, 0x09000123    # vendor call fid 7 (20, 22) → a1 = 42
  li a6, 7
  li a0, 20
  li a1, 22
  ecall
  add s0, a1, s1       # 42 + 5 = 47 when both work
${shutdownWith('s0')}`);
    const res = await runBareMetal({
      hypervisor: createEmulator(), image, memorySize: 16 << 20, timeoutMs: 20_000, output: { write() {} },
      sbiExtensions: [createUserExtension({ name: 'demo', eid: 0x0900_0123, probe: () => 5, functions: { 7: async (args) => ({ error: 0, value: args[0]! + args[1]! }) } })],
    });
    expect(res.result).toEqual({ kind: 'shutdown', reason: 47n });
  });

  it('MMIO to an unmapped device address reads 0 and the store is counted', async () => {
    const image = elf(`
  .text
  .globl _start
_start:
  li t0, 0x10000000    # where a UART would be; nothing mapped here
  li t1, 0x41
  sb t1, 0(t0)
  lw s0, 4(t0)
${shutdownWith('s0')}`);
    const res = await runBareMetal({ hypervisor: createEmulator(), image, memorySize: 16 << 20, timeoutMs: 20_000, output: { write() {} } });
    expect(res.result).toEqual({ kind: 'shutdown', reason: 0n });
    expect(res).toMatchObject({ unmappedReads: 1, unmappedWrites: 1, counters: { mmio: 2 } });
  });
});
