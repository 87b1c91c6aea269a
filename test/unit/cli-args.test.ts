import { describe, expect, it } from 'vitest';
import { HELP_TEXT, UsageError, parseArgs, parseDuration, parseSize } from '../../lib/cli/args.js';

describe('kvm-riscv argument parsing', () => {
  it('parses a full run command in both flag forms', () => {
    expect(parseArgs(['run', '--kernel', 'p.elf', '--backend=emulator', '--memory', '64M', '--timeout=500ms', '--append', 'a b', '--initrd', 'rd.cpio', '-v'])).toEqual({
      command: 'run', kernel: 'p.elf', backend: 'emulator', memorySize: 64 << 20, timeoutMs: 500, append: 'a b', initrd: 'rd.cpio', verbose: true,
      smp: 1, disks: [], trace: undefined, reboot: 'restart', console: 'uart', time: 'realtime', inKernelSbi: {}, stats: true,
    });
  });

  it('defaults: auto backend, 128 MiB, no timeout, no bootargs', () => {
    expect(parseArgs(['run', '--kernel', 'x'])).toEqual({ command: 'run', kernel: 'x', backend: 'auto', memorySize: 128 << 20, timeoutMs: undefined, append: undefined, initrd: undefined, verbose: false, smp: 1, disks: [], trace: undefined, reboot: 'restart', console: 'uart', time: 'realtime', inKernelSbi: {}, stats: true });
  });

  it.each([
    [[], /no command/],
    [['boot'], /unknown command 'boot'/],
    [['run'], /--kernel <file> is required/],
    [['run', '--kernel'], /--kernel needs a value/],
    [['run', '--kernel', 'a', '--kernel', 'b'], /given twice/],
    [['run', '--kernel', 'a', '--frobnicate'], /unknown option '--frobnicate'/],
    [['run', 'a.elf'], /unexpected argument 'a.elf'/],
    [['run', '--kernel', 'a', '--backend', 'xen'], /--backend must be one of auto, kvm, emulator/],
    [['run', '--kernel', 'a', '--memory', 'lots'], /not a size/],
    [['run', '--kernel', 'a', '--timeout', 'soon'], /not a duration/],
    [['run', '--kernel', 'a', '--time', 'fast'], /--time must be realtime or deterministic; got 'fast'/],
    [['run', '--kernel', 'a', '--backend', 'kvm', '--time', 'deterministic'], /--time deterministic needs the emulator backend/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('help and version', () => {
    expect(parseArgs(['--help'])).toEqual({ command: 'help' });
    expect(parseArgs(['run', '-h'])).toEqual({ command: 'help' });
    expect(parseArgs(['--version'])).toEqual({ command: 'version' });
    // A flag's value is never taken for --help.
    expect(parseArgs(['run', '--kernel', 'k', '--append', '--help'])).toMatchObject({ command: 'run', append: '--help' });
  });

  it('the help text explains every flag and every exit status', () => {
    for (const flag of ['--kernel', '--backend', '--memory', '--timeout', '--append', '--initrd', '--verbose', '--help', '--version']) expect(HELP_TEXT).toContain(flag);
    for (const code of ['0', '1', '2', '3', '4', '5']) expect(HELP_TEXT).toMatch(new RegExp(`^  ${code}  `, 'm'));
  });

  it('sizes: units, 4 KiB granularity and limits', () => {
    expect(parseSize('128M')).toBe(128 << 20);
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('16384k')).toBe(16 << 20);
    expect(parseSize('64MiB')).toBe(64 << 20);
    expect(parseSize(String(32 << 20))).toBe(32 << 20);
    expect(() => parseSize('4M')).toThrow(/minimum/);
    expect(() => parseSize('17G')).toThrow(/maximum/);
    expect(() => parseSize(String((64 << 20) + 1))).toThrow(/4 KiB/);
  });

  it('durations: units, none, range', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1.5')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('none')).toBeUndefined();
    expect(parseDuration('0')).toBeUndefined();
    expect(() => parseDuration('0.0001ms')).toThrow(/out of range/);
    expect(() => parseDuration('-1s')).toThrow(/not a duration/);
  });
});
