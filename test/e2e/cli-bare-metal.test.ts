// End to end: tiny guests assembled at test time, run by the kvm-riscv CLI (spawned from source)
// on the emulator backend; exit statuses, DBCN output and boot registers checked from outside.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest, hasCrossBinutils, helloThenResetSource, SBI_ASM, type BuiltGuest } from './guest-build.js';
import { REPO_ROOT, spawnCli } from './cli-process.js';
import { cliBin, shebangNodeFlags } from '../../lib/cli/node-flags.js';

const built: BuiltGuest[] = [];
const guest = (src: string, opts?: Parameters<typeof buildGuest>[1]): BuiltGuest => {
  const g = buildGuest(src, opts);
  built.push(g);
  return g;
};
afterAll(() => built.forEach((g) => g.cleanup()));

/** Prints `ok\n` when a0 = 0 and a1 points at an FDT whose magic and /chosen bootargs we check
 * loosely (the magic is big-endian 0xd00dfeed, so a little-endian lwu reads 0xedfe0dd0), else
 * `bad boot\n`; and checks that a DBCN write from an address outside RAM gets INVALID_PARAM (-3). */
const BOOT_CHECK = `
  .text
  .globl _start
_start:
  mv s0, a0
  mv s1, a1
  bnez s0, fail
  li t1, 0x80000000
  bltu s1, t1, fail
  lwu t0, 0(s1)
  li t1, 0xedfe0dd0
  bne t0, t1, fail
  # DBCN console_write of 4 bytes at 0x1000 (not RAM): must fail with SBI_ERR_INVALID_PARAM
  li a7, ${SBI_ASM.DBCN}
  li a6, 0
  li a0, 4
  li a1, 0x1000
  li a2, 0
  ecall
  li t1, -3
  bne a0, t1, fail
  la a1, okmsg
  li a0, 3
  li s2, 0
  j print
fail:
  la a1, badmsg
  li a0, 9
  li s2, 1
print:
  li a7, ${SBI_ASM.DBCN}
  li a6, 0
  li a2, 0
  ecall
  li a7, ${SBI_ASM.SRST}
  li a6, 0
  li a0, 0
  mv a1, s2
  ecall
1: j 1b
  .section .rodata
okmsg: .ascii "ok\\n"
badmsg: .ascii "bad boot\\n"
`;

describe.skipIf(!hasCrossBinutils)('kvm-riscv run, end to end on the emulator (skipped without riscv64 cross binutils)', () => {
  let hello: Record<string, BuiltGuest>;
  beforeAll(() => {
    hello = {
      shutdown: guest(helloThenResetSource('hello\n', 0, 0), { flat: true }),
      failure: guest(helloThenResetSource('hello\n', 0, 1)),
      cold: guest(helloThenResetSource('hello\n', 1, 0)),
      warm: guest(helloThenResetSource('hello\n', 2, 0)),
    };
  });

  it.each([
    ['shutdown', 0],
    ['failure', 1],
    ['cold', 2],
    ['warm', 2],
  ])('SRST %s → exit %i after printing hello via DBCN (--reboot exit)', async (which, code) => {
    const r = await spawnCli(['run', '--kernel', hello[which]!.elf, '--backend', 'emulator', '--timeout', '20s', '--reboot', 'exit']);
    expect(r.stdout).toBe('hello\n');
    expect(r.code, r.stderr).toBe(code);
  });

  it('runs the same program as a flat binary at RAM + 2 MiB', async () => {
    const r = await spawnCli(['run', '--kernel', hello.shutdown!.bin!, '--backend', 'emulator', '--timeout', '20s']);
    expect(r).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('boots with a0 = 0 and a1 = an FDT in RAM; a DBCN buffer outside RAM gets INVALID_PARAM', async () => {
    const r = await spawnCli(['run', '--kernel', guest(BOOT_CHECK).elf, '--backend', 'emulator', '--append', 'console=hvc0', '--timeout', '20s']);
    expect(r.stdout).toBe('ok\n');
    expect(r.code, r.stderr).toBe(0);
  });

  it('DBCN console_read takes bytes from stdin (the guest echoes one byte)', async () => {
    const echo = guest(`
  .text
  .globl _start
_start:
  la s1, buf
1:
  li a7, ${SBI_ASM.DBCN}
  li a6, 1          # console_read(1, buf, 0)
  li a0, 1
  mv a1, s1
  li a2, 0
  ecall
  bnez a0, 2f
  beqz a1, 1b       # nothing yet: poll again
  li a7, ${SBI_ASM.DBCN}
  li a6, 2          # console_write_byte(buf[0])
  lbu a0, 0(s1)
  ecall
  li a1, 0
  j 3f
2:
  li a1, 1
3:
  li a7, ${SBI_ASM.SRST}
  li a6, 0
  li a0, 0
  ecall
  .bss
buf: .skip 16
`);
    const r = await spawnCli(['run', '--kernel', echo.elf, '--backend', 'emulator', '--timeout', '20s'], { input: 'Q' });
    expect(r).toMatchObject({ code: 0, stdout: 'Q' });
    // The same through the installed bin (package.json "bin": the CLI bundle of npm run build).
    const b = await spawnCli(['run', '--kernel', echo.elf, '--backend', 'emulator', '--timeout', '20s'], { input: 'Q', bin: true });
    expect(b).toMatchObject({ code: 0, stdout: 'Q' });
  });

  it('SIGINT stops the guest → exit 130', async () => {
    const r = await spawnCli(['run', '--kernel', guest('.text\n.globl _start\n_start: j _start\n').elf, '--backend', 'emulator', '--timeout', '20s', '-v'], { sigintWhenStderr: /loaded at/ });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
  });

  it('a guest that never stops → exit 3 at the timeout', async () => {
    const t0 = Date.now();
    const r = await spawnCli(['run', '--kernel', guest('.text\n.globl _start\n_start: j _start\n').elf, '--backend', 'emulator', '--timeout', '300ms']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/timeout/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('the installed bin leaves node:crypto, node:os, perf_hooks, the ES module loader and fs streams unloaded (stdin from /dev/null)', () => {
    // Each costs resident memory the VMM does not need (issue 5; lib/host, lib/cli/host-input.ts,
    // scripts/bundle-cli.mjs). A preload reports what node loaded when the process exits.
    const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-modules-'));
    try {
      const preload = join(dir, 'report.cjs');
      writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, 'MODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n");
      const bin = cliBin(REPO_ROOT);
      const r = spawnSync(process.execPath, [...shebangNodeFlags(bin), '-r', preload, bin, 'run', '--kernel', hello.shutdown!.bin!, '--backend', 'emulator', '--timeout', '20s'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toBe('hello\n');
      expect(r.status, r.stderr).toBe(0);
      const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '));
      const loaded = JSON.parse(line!.slice('MODULES '.length)) as string[];
      expect(loaded).toContain('NativeModule fs'); // the report itself works
      const unwanted = ['NativeModule crypto', 'NativeModule os', 'NativeModule perf_hooks', 'NativeModule internal/perf/performance',
        'NativeModule internal/modules/esm/load', 'NativeModule internal/modules/esm/module_job', 'NativeModule internal/fs/streams',
        'NativeModule internal/fs/promises'];
      expect(loaded.filter((m) => unwanted.includes(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an executable linked outside RAM → exit 4 naming the segment', async () => {
    const r = await spawnCli(['run', '--kernel', guest('.text\n.globl _start\n_start: j _start\n', { textAddress: 0x4000_0000n }).elf, '--backend', 'emulator']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^kvm-riscv: .*prog\.elf: segment 0 .* is outside RAM \[0x80000000, 0x88000000\)\n$/);
  });
});

describe('kvm-riscv process: usage and input errors', () => {
  it('--help explains the flags and exits 0', async () => {
    const r = await spawnCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--kernel <file>/);
    expect(r.stdout).toMatch(/Exit status:/);
  });

  it('bad usage → 5 with one message on stderr', async () => {
    const r = await spawnCli(['run', '--kernel', 'x', '--backend', 'qemu']);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe("kvm-riscv: --backend must be one of auto, kvm, emulator; got 'qemu'\nTry 'kvm-riscv --help'.\n");
  });

  it('a missing file → 4', async () => {
    const r = await spawnCli(['run', '--kernel', '/nonexistent/prog.elf']);
    expect(r).toMatchObject({ code: 4, stderr: 'kvm-riscv: /nonexistent/prog.elf: no such file\n', stdout: '' });
  });

  it('a non-RISC-V ELF (a host executable) → 4 naming the machine', async () => {
    const r = await spawnCli(['run', '--kernel', existsSync('/bin/true') ? '/bin/true' : process.execPath]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/not a RISC-V executable: e_machine is \d+ \(.*\), expected 243 \(EM_RISCV\)\n$/);
  });

  it('a truncated ELF → 4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-trunc-'));
    try {
      const file = join(dir, 'truncated.elf');
      writeFileSync(file, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
      const r = await spawnCli(['run', '--kernel', file]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/truncated ELF: 10 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
