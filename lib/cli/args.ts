/**
 * Command-line parsing for `kvm-riscv`, kept pure (argv in, options or a usage error out) so it is
 * tested without spawning anything. Flags take `--flag value` or `--flag=value`.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../vmm/select-backend.js';
import { DEFAULT_RAM_SIZE, MAX_RAM_SIZE, MIN_RAM_SIZE, PAGE_SIZE } from '../boot/layout.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface RunCommand {
  command: 'run';
  kernel: string;
  backend: BackendChoice;
  memorySize: number;
  /** Milliseconds; undefined = no limit. */
  timeoutMs?: number;
  append?: string;
  initrd?: string;
  verbose: boolean;
}

export type Command = RunCommand | { command: 'help' } | { command: 'version' };

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "128M", "1G", "512k", "65536", "64MiB" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--memory: '${text}' is not a size (examples: 128M, 1G, 65536)`);
  const bytes = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--memory: '${text}' is too large`);
  if (bytes % PAGE_SIZE !== 0) throw new UsageError(`--memory: ${bytes} bytes is not a multiple of 4 KiB`);
  if (bytes < MIN_RAM_SIZE) throw new UsageError(`--memory: ${text} is less than the minimum ${MIN_RAM_SIZE / 1024 / 1024}M`);
  if (bytes > MAX_RAM_SIZE) throw new UsageError(`--memory: ${text} is more than the maximum ${MAX_RAM_SIZE / 1024 ** 3}G`);
  return bytes;
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000 };

/** "10s", "500ms", "2m", "1.5" (seconds) → milliseconds; "0" or "none" = no limit. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === '0') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(t);
  if (!m) throw new UsageError(`--timeout: '${text}' is not a duration (examples: 10s, 500ms, 2m, none)`);
  const ms = Math.round(Number(m[1]) * TIME_UNITS[m[2] ?? '']!);
  if (ms <= 0 || ms > 2 ** 31 - 1) throw new UsageError(`--timeout: '${text}' is out of range (1ms .. ~24 days)`);
  return ms;
}

const RUN_FLAGS_WITH_VALUE = new Set(['--kernel', '--backend', '--memory', '--timeout', '--append', '--initrd']);

export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError('no command given');
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { command: 'help' };
  if (argv[0] === '--version' || argv[0] === 'version') return { command: 'version' };
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') throw new UsageError(`unknown command '${cmd}' (the command is 'run')`);

  const values = new Map<string, string>();
  let verbose = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') return { command: 'help' };
    if (arg === '--verbose' || arg === '-v') { verbose = true; continue; }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!RUN_FLAGS_WITH_VALUE.has(name)) {
      throw new UsageError(arg.startsWith('-') ? `unknown option '${name}'` : `unexpected argument '${arg}' (give the program with --kernel)`);
    }
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else {
      value = rest[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
    }
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }

  const kernel = values.get('--kernel');
  if (kernel === undefined || kernel === '') throw new UsageError('--kernel <file> is required');
  const backend = (values.get('--backend') ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}; got '${backend}'`);
  const mem = values.get('--memory');
  const timeout = values.get('--timeout');
  return {
    command: 'run',
    kernel,
    backend,
    memorySize: mem === undefined ? DEFAULT_RAM_SIZE : parseSize(mem),
    timeoutMs: timeout === undefined ? undefined : parseDuration(timeout),
    append: values.get('--append'),
    initrd: values.get('--initrd'),
    verbose,
  };
}

export const HELP_TEXT = `kvm-riscv: run a bare-metal RISC-V program on KVM (riscv64 Linux) or the built-in emulator

Usage:
  kvm-riscv run --kernel <file> [options]
  kvm-riscv --help | --version

The program is a static ELF64 RISC-V executable (segments loaded at their physical addresses), a
Linux RISC-V Image (loaded at RAM base + text_offset) or any other file as a flat binary loaded at
RAM base + 2 MiB (0x80200000). It starts on hart 0
in S-mode at its entry point with a0 = 0 (hart id) and a1 = the address of a device tree describing
the machine (RAM at 0x80000000, /cpus, /memory, /chosen). Its SBI debug console (DBCN) output goes
to stdout; DBCN reads come from stdin. The run ends when the program calls SBI system_reset.

Options:
  --kernel <file>         the program to run (required)
  --backend <b>           auto (default): KVM when /dev/kvm is usable, else the emulator;
                          kvm: real KVM only (an error elsewhere); emulator: the TypeScript emulator
  --memory <size>         guest RAM, e.g. 64M, 1G (default 128M; 8M .. 16G, a multiple of 4K)
  --timeout <duration>    stop the guest after this long, e.g. 10s, 500ms, 2m (default: none)
  --append <text>         the kernel command line, put in /chosen/bootargs
  --initrd <file>         an initial ramdisk, loaded below the device tree near the top of RAM and
                          announced in /chosen (linux,initrd-start / linux,initrd-end)
  -v, --verbose           print backend, load addresses and exit counts on stderr
  -h, --help              show this help
  --version               print the version

Exit status:
  0  the program called SBI system_reset(shutdown, reason "no reason")
  1  the program called SBI system_reset(shutdown, reason "system failure" or any other reason)
  2  the program asked for a reboot (SBI system_reset cold or warm reboot); it is not restarted
  3  the --timeout expired
  4  error: unreadable or invalid program (not RISC-V, segments outside RAM, ...), backend failure
  5  bad usage (unknown option, missing --kernel, bad value)
  130  interrupted (SIGINT)
`;
