// End to end: the kvm-riscv executable (spawned from source) given bad input. What only a real
// process shows: the exit status the help documents (5 bad usage, 4 bad file or backend), the
// message on stderr without a JavaScript stack trace or "internal error", nothing on stdout, no
// file left behind, and no hang on a device that never ends (/dev/zero as the kernel).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-e2e-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string): string => join(dir, name);
writeFileSync(f('guest.bin'), 'flat guest bytes');
writeFileSync(f('trunc.elf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
mkdirSync(f('a-dir'));

const onRiscvKvmHost = process.platform === 'linux' && process.arch === 'riscv64';

describe('kvm-riscv (process) with bad input', () => {
  it.each([
    ['no command', 5, [], /^kvm-riscv: no command given$/],
    ['an unknown flag', 5, ['run', '--kernel', f('guest.bin'), '--frobnicate'], /^kvm-riscv: unknown option '--frobnicate'$/],
    ['a bad --memory', 5, ['run', '--kernel', f('guest.bin'), '-m', '12Q'], /^kvm-riscv: --memory: '12Q' is not a size/],
    ['a bad --smp', 5, ['run', '--kernel', f('guest.bin'), '--smp', 'many'], /^kvm-riscv: --smp: 'many' is not a number of harts$/],
    ['an unknown --backend', 5, ['run', '--kernel', f('guest.bin'), '--backend', 'xen'], /^kvm-riscv: --backend must be one of auto, kvm, emulator; got 'xen'$/],
    ['a bad --sbi-ext', 5, ['run', '--kernel', f('guest.bin'), '--sbi-ext', 'DBCN=maybe'], /^kvm-riscv: --sbi-ext: 'DBCN=maybe' is not NAME=on or NAME=off$/],
    ['a missing kernel', 4, ['run', '--kernel', f('nope.bin')], /^kvm-riscv: \S+nope\.bin: no such file$/],
    ['a directory as the kernel', 4, ['run', '--kernel', f('a-dir')], /^kvm-riscv: \S+a-dir: is a directory$/],
    ['/dev/zero as the kernel', 4, ['run', '--kernel', '/dev/zero'], /^kvm-riscv: \/dev\/zero: not a regular file$/],
    ['a truncated ELF', 4, ['run', '--kernel', f('trunc.elf')], /^kvm-riscv: \S+trunc\.elf: truncated ELF: 8 bytes/],
    ['a missing initrd', 4, ['run', '--kernel', f('guest.bin'), '--initrd', f('nope.cpio')], /^kvm-riscv: \S+nope\.cpio: no such file$/],
    ['a missing disk, with --trace', 4, ['run', '--kernel', f('guest.bin'), '--backend', 'emulator', '--disk', f('nope.img'), '--trace', f('t.json')], /^kvm-riscv: disk \S+nope\.img: no such file$/],
  ] as const)('%s → %i', async (_what, status, args, message) => {
    const before = readdirSync(dir).sort();
    const r = await spawnCli(args, { killAfterMs: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(status);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(message);
    expect(lines.slice(1)).toEqual(status === 5 ? ["Try 'kvm-riscv --help'."] : []);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at |Error:/);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(f('t.json'))).toBe(false);
  }, 90_000);

  it.skipIf(onRiscvKvmHost)('--backend kvm on a host without RISC-V KVM → 4, naming the host and every check', async () => {
    const r = await spawnCli(['run', '--kernel', f('guest.bin'), '--backend', 'kvm'], { killAfterMs: 60_000 });
    expect(r.code).toBe(4);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`kvm-riscv: KVM backend unavailable: this is a ${process.platform}-${process.arch} host; the KVM backend needs linux-riscv64 (use the emulator backend)`);
    expect(lines.slice(1).every((l) => /^\s{2}\S/.test(l))).toBe(true); // the checks, indented
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stdout).toBe('');
  }, 90_000);
});
