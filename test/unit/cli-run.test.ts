// runCli in-process against the scripted fake backend: the exit status for each way a guest ends.
import { describe, expect, it } from 'vitest';
import { SBI_EXT_DBCN } from '../../lib/abi/sbi.js';
import { REG_PC } from '../../lib/abi/regs.js';
import { KvmUnavailableError } from '../../lib/errors.js';
import { runCli, type CliDeps } from '../../lib/cli/cli.js';
import { FakeHypervisor, type ExitScript, sbiExit, srstExit } from '../e2e/support/fake-backend.js';

function harness(script: ExitScript, file: Uint8Array | Error = new TextEncoder().encode('flat guest bytes')) {
  const out: number[] = [];
  let err = '';
  const opened: string[] = [];
  const deps: CliDeps = {
    openHypervisor: async ({ backend }) => { opened.push(backend); return new FakeHypervisor(script); },
    readFile: () => { if (file instanceof Error) throw file; return file; },
    stdout: { write: (b) => { out.push(...b); } },
    stderr: { write: (s) => { err += s; } },
    version: '9.9.9',
  };
  return { deps, out: () => Buffer.from(out).toString(), err: () => err, opened };
}

const printThen = (end: () => ReturnType<ExitScript>): ExitScript => {
  let step = 0;
  return (vcpu) => (++step === 1 ? sbiExit(SBI_EXT_DBCN, 0, 4n, vcpu.getReg(REG_PC), 0n) : end());
};

describe('runCli exit status', () => {
  it.each([
    ['shutdown, no reason', () => srstExit('shutdown', 0n), 0, /^$/],
    ['shutdown, system failure', () => srstExit('shutdown', 1n), 1, /system failure/],
    ['shutdown, a vendor reason', () => srstExit('shutdown', 0xf000_0000n), 1, /0xf0000000/],
    ['reboot', () => srstExit('reset', 0n), 2, /reboot/],
  ] as const)('%s → %i, with the guest output on stdout', async (_what, end, code, stderr) => {
    const h = harness(printThen(end));
    expect(await runCli(['run', '--kernel', 'g.bin', '--backend', 'emulator', '--reboot', 'exit', '--no-stats'], h.deps)).toBe(code);
    expect(h.out()).toBe('flat');
    expect(h.err()).toMatch(stderr);
    expect(h.opened).toEqual(['emulator']);
  });

  it('timeout → 3', async () => {
    const h = harness((vcpu) => vcpu.blockUntilStopped());
    expect(await runCli(['run', '--kernel', 'g.bin', '--timeout', '30ms'], h.deps)).toBe(3);
    expect(h.err()).toMatch(/timeout/);
  });

  it('a backend error during the run → 4', async () => {
    const h = harness(() => { throw new Error('KVM_RUN: Input/output error'); });
    expect(await runCli(['run', '--kernel', 'g.bin'], h.deps)).toBe(4);
    expect(h.err()).toMatch(/Input\/output error/);
  });

  it('an unavailable backend → 4 with its reasons', async () => {
    const h = harness(() => srstExit('shutdown', 0n));
    h.deps.openHypervisor = async () => { throw new KvmUnavailableError('no /dev/kvm', ['/dev/kvm: ENOENT']); };
    expect(await runCli(['run', '--kernel', 'g.bin', '--backend', 'kvm'], h.deps)).toBe(4);
    expect(h.err()).toMatch(/KVM backend unavailable: no \/dev\/kvm\n\s+\/dev\/kvm: ENOENT/);
  });

  it('a bad image is reported before any backend is opened → 4', async () => {
    const elfForX86 = new Uint8Array(64);
    elfForX86.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(elfForX86.buffer).setUint16(16, 2, true);
    new DataView(elfForX86.buffer).setUint16(18, 62, true);
    const h = harness(() => srstExit('shutdown', 0n), elfForX86);
    expect(await runCli(['run', '--kernel', 'x86.elf'], h.deps)).toBe(4);
    expect(h.err()).toBe('kvm-riscv: x86.elf: not a RISC-V executable: e_machine is 62 (x86-64), expected 243 (EM_RISCV)\n');
    expect(h.opened).toEqual([]);
  });

  it('a missing file → 4 naming it', async () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' });
    const h = harness(() => srstExit('shutdown', 0n), enoent);
    expect(await runCli(['run', '--kernel', 'nope.elf'], h.deps)).toBe(4);
    expect(h.err()).toBe('kvm-riscv: nope.elf: no such file\n');
  });

  it('a missing initrd → 4 naming it, before any backend is opened', async () => {
    const h = harness(() => srstExit('shutdown', 0n));
    const readKernel = h.deps.readFile;
    h.deps.readFile = (p) => {
      if (p === 'rd.cpio') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' });
      return readKernel(p);
    };
    expect(await runCli(['run', '--kernel', 'g.bin', '--initrd', 'rd.cpio'], h.deps)).toBe(4);
    expect(h.err()).toBe('kvm-riscv: rd.cpio: no such file\n');
    expect(h.opened).toEqual([]);
  });

  it('bad usage → 5, help and version → 0', async () => {
    const h = harness(() => srstExit('shutdown', 0n));
    expect(await runCli(['run', '--kernel', 'a', '--memory', '3M'], h.deps)).toBe(5);
    expect(h.err()).toMatch(/minimum.*\nTry 'kvm-riscv --help'/);
    expect(await runCli(['--help'], h.deps)).toBe(0);
    expect(h.out()).toMatch(/Usage:/);
    const v = harness(() => srstExit('shutdown', 0n));
    expect(await runCli(['--version'], v.deps)).toBe(0);
    expect(v.out()).toBe('kvm-riscv 9.9.9\n');
  });

  it('--verbose reports load addresses and exit counts on stderr', async () => {
    const h = harness(printThen(() => srstExit('shutdown', 0n)));
    expect(await runCli(['run', '--kernel', 'g.bin', '-v'], h.deps)).toBe(0);
    expect(h.err()).toMatch(/flat binary loaded at \[0x80200000, 0x80200010\), entry 0x80200000, FDT at 0x87e00000/);
    expect(h.err()).toMatch(/2 exits \(1 SBI, 0 MMIO, 0 CSR\)/);
  });
});
