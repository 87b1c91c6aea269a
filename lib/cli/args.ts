/**
 * Command-line parsing for `kvm-riscv`, kept pure (argv in, options or a usage error out) so it is
 * tested without spawning anything. Flags take `--flag value` or `--flag=value`.
 */
import { BACKEND_CHOICES, type BackendChoice } from '../vmm/select-backend.js';
import { DEFAULT_RAM_SIZE, MAX_RAM_SIZE, MIN_RAM_SIZE, PAGE_SIZE, VIRTIO_MMIO_COUNT } from '../boot/layout.js';
import { SBI_EXTS, type SbiExtName } from '../abi/regs.js';

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
  /** Harts (--smp). */
  smp: number;
  /** Raw disk images, in virtio-mmio slot order (--disk, repeatable). */
  disks: { path: string; readonly: boolean }[];
  /** File to write every exit to, one JSON object per line (--trace). */
  trace?: string;
  /** What a guest reboot does (--reboot). */
  reboot: 'restart' | 'exit';
  /** The console device (--console): the NS16550A UART (Linux ttyS0) or virtio-console (hvc0). */
  console: 'uart' | 'virtio';
  /** Guest time on the emulator backend (--time); KVM always runs in real time. */
  time: 'realtime' | 'deterministic';
  /** In-kernel SBI extensions to enable or disable before the first run (--sbi-ext NAME=on|off). */
  inKernelSbi: Partial<Record<SbiExtName, boolean>>;
  /** Print the exit-statistics table on stderr at the end (default; --no-stats turns it off). */
  stats: boolean;
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

const RUN_FLAGS_WITH_VALUE = new Set(['--kernel', '--backend', '--memory', '--timeout', '--append', '--initrd', '--smp', '--disk', '--trace', '--reboot', '--sbi-ext', '--console', '--time']);
/** Flags that may be given more than once. */
const REPEATABLE = new Set(['--disk', '--sbi-ext']);
/** Short spellings (QEMU's -m for memory). */
const ALIASES: Record<string, string> = { '-m': '--memory' };
/** Harts the CLI accepts (lib/vmm/machine.ts MAX_VCPUS). */
export const MAX_SMP = 64;
/** Disks the CLI accepts: the memory map's virtio-mmio slots less the one the CLI's machine gives
 * its entropy device (virtio-rng is on by default in MachineConfig). */
export const MAX_DISKS = VIRTIO_MMIO_COUNT - 1;

/** "file.img" or "file.img,ro" (also ",readonly") → a disk. */
export function parseDisk(text: string): { path: string; readonly: boolean } {
  const parts = text.split(',');
  const path = parts[0] ?? '';
  if (path === '') throw new UsageError(`--disk: '${text}' names no file`);
  let readonly = false;
  for (const opt of parts.slice(1)) {
    if (opt === 'ro' || opt === 'readonly') readonly = true;
    else if (opt === 'rw') readonly = false;
    else throw new UsageError(`--disk: unknown option '${opt}' in '${text}' (ro or rw)`);
  }
  return { path, readonly };
}

/** "PMU=off", "STA=on" → [name, enabled]; names as KVM's enum (lib/abi/regs.ts SBI_EXTS). */
export function parseSbiExt(text: string): [SbiExtName, boolean] {
  const m = /^([A-Za-z0-9]+)=(on|off)$/.exec(text.trim());
  if (!m) throw new UsageError(`--sbi-ext: '${text}' is not NAME=on or NAME=off`);
  const name = SBI_EXTS.find((n) => n.toLowerCase() === m[1]!.toLowerCase());
  if (!name) throw new UsageError(`--sbi-ext: unknown extension '${m[1]}' (one of ${SBI_EXTS.join(', ')})`);
  return [name, m[2] === 'on'];
}

export function parseSmp(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--smp: '${text}' is not a number of harts`);
  const n = Number(text.trim());
  if (n < 1 || n > MAX_SMP) throw new UsageError(`--smp: ${n} is not 1..${MAX_SMP}`);
  return n;
}

export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError('no command given');
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { command: 'help' };
  if (argv[0] === '--version' || argv[0] === 'version') return { command: 'version' };
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') throw new UsageError(`unknown command '${cmd}' (the command is 'run')`);

  const values = new Map<string, string>();
  const disks: string[] = [];
  const sbiExts: string[] = [];
  let verbose = false;
  let stats = true;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') return { command: 'help' };
    if (arg === '--verbose' || arg === '-v') { verbose = true; continue; }
    if (arg === '--no-stats') { stats = false; continue; }
    const eq = arg.indexOf('=');
    const spelled = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const name = ALIASES[spelled] ?? spelled;
    if (!RUN_FLAGS_WITH_VALUE.has(name)) {
      throw new UsageError(arg.startsWith('-') ? `unknown option '${name}'` : `unexpected argument '${arg}' (give the program with --kernel)`);
    }
    let value: string | undefined;
    if (spelled !== arg) value = arg.slice(eq + 1);
    else {
      value = rest[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
    }
    if (REPEATABLE.has(name)) { (name === '--disk' ? disks : sbiExts).push(value); continue; }
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }

  const kernel = values.get('--kernel');
  if (kernel === undefined || kernel === '') throw new UsageError('--kernel <file> is required');
  const backend = (values.get('--backend') ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}; got '${backend}'`);
  const mem = values.get('--memory');
  const timeout = values.get('--timeout');
  const reboot = values.get('--reboot') ?? 'restart';
  if (reboot !== 'restart' && reboot !== 'exit') throw new UsageError(`--reboot must be restart or exit; got '${reboot}'`);
  const consoleDevice = values.get('--console') ?? 'uart';
  if (consoleDevice !== 'uart' && consoleDevice !== 'virtio') throw new UsageError(`--console must be uart or virtio; got '${consoleDevice}'`);
  const time = values.get('--time') ?? 'realtime';
  if (time !== 'realtime' && time !== 'deterministic') throw new UsageError(`--time must be realtime or deterministic; got '${time}'`);
  if (time === 'deterministic' && backend === 'kvm') throw new UsageError('--time deterministic needs the emulator backend: a KVM guest always runs in real time');
  // The virtio-mmio slots are shared by the disks, the entropy device and a virtio console.
  const maxDisks = consoleDevice === 'virtio' ? MAX_DISKS - 1 : MAX_DISKS;
  if (disks.length > maxDisks) throw new UsageError(`--disk: at most ${maxDisks} disks fit the memory map (with the entropy device${consoleDevice === 'virtio' ? ' and the virtio console' : ''}); got ${disks.length}`);
  const trace = values.get('--trace');
  if (trace === '') throw new UsageError('--trace needs a file name');
  const initrd = values.get('--initrd');
  if (initrd === '') throw new UsageError('--initrd needs a file name');
  const sbiSettings = sbiExts.map(parseSbiExt);
  const seen = new Map<SbiExtName, boolean>();
  for (const [name, on] of sbiSettings) {
    // Two settings of one extension: say so rather than let the last one silently win.
    if (seen.has(name)) throw new UsageError(`--sbi-ext: ${name} given twice (${seen.get(name) ? 'on' : 'off'}, then ${on ? 'on' : 'off'})`);
    seen.set(name, on);
  }
  const smp = values.get('--smp');
  return {
    command: 'run',
    kernel,
    backend,
    memorySize: mem === undefined ? DEFAULT_RAM_SIZE : parseSize(mem),
    timeoutMs: timeout === undefined ? undefined : parseDuration(timeout),
    append: values.get('--append'),
    initrd,
    smp: smp === undefined ? 1 : parseSmp(smp),
    disks: disks.map(parseDisk),
    trace,
    reboot,
    console: consoleDevice,
    time,
    inKernelSbi: Object.fromEntries(sbiSettings) as Partial<Record<SbiExtName, boolean>>,
    stats,
    verbose,
  };
}

export const HELP_TEXT = `kvm-riscv: a RISC-V virtual machine monitor in Node.js, on KVM (riscv64 Linux) or the built-in emulator

Usage:
  kvm-riscv run --kernel <file> [options]
  kvm-riscv --help | --version

Examples:
  kvm-riscv run --kernel Image --initrd initrd.cpio --append "console=ttyS0" -m 512M --smp 2 --disk disk.img,ro
  kvm-riscv run --kernel prog.elf --timeout 10s

The kernel is a Linux RISC-V Image (loaded at RAM base + text_offset), a static ELF64 RISC-V
executable (segments at their physical addresses) or any other file as a flat binary at RAM base +
2 MiB (0x80200000). Hart 0 starts in S-mode at its entry with a0 = 0 (hart id) and a1 = the address
of a device tree describing the machine: RAM at 0x80000000, the harts (started by the guest through
SBI HSM), /chosen (bootargs, initrd, stdout-path, rng-seed), a PLIC at 0xc000000, an NS16550A UART at
0x10000000 (Linux: console=ttyS0) and one virtio-mmio block device per --disk from 0x10001000
(/dev/vda, /dev/vdb, ...). The guest console (UART and SBI debug console) goes to stdout; input comes
from stdin. The run ends when the guest calls SBI system_reset (Linux: poweroff, reboot).

Options:
  --kernel <file>         the kernel or program to run (required)
  --initrd <file>         an initial ramdisk, loaded below the device tree near the top of RAM and
                          announced in /chosen (linux,initrd-start / linux,initrd-end)
  --append <text>         the kernel command line, put in /chosen/bootargs
  -m, --memory <size>     guest RAM, e.g. 512M, 1G (default 128M; 8M .. 16G, a multiple of 4K; the
                          emulator backend holds at most 4G on Node 20)
  --smp <n>               number of harts, 1..${MAX_SMP} (default 1)
  --disk <file>[,ro]      a raw disk image as a virtio-blk device; ",ro" makes it read-only (the file
                          is then opened read-only). Repeat for more disks (at most ${MAX_DISKS})
  --backend <b>           auto (default): KVM when /dev/kvm is usable, else the emulator;
                          kvm: real KVM only (an error elsewhere); emulator: the TypeScript emulator
  --reboot <policy>       what a guest reboot does: restart (default: boot again from the same files,
                          at most 8 times) or exit (end with status 2)
  --console <device>      the guest's console (/chosen/stdout-path): uart (default; Linux
                          console=ttyS0) or virtio, a virtio-console device in the slot after the disks
                          (Linux console=hvc0; the UART stays). Either way it is stdout and stdin
  --time <mode>           guest time on the emulator backend: realtime (default: the host's clock,
                          as under KVM, so a guest's sleeps and timeouts take their real time) or
                          deterministic (time follows retired instructions and idle waits are
                          skipped: the same guest and input give the same run every time)
  --timeout <duration>    stop the guest after this long, e.g. 10s, 500ms, 2m (default: none)
  --sbi-ext <NAME>=on|off enable or disable an in-kernel SBI extension before the guest starts;
                          repeatable. NAME: ${SBI_EXTS.slice(0, 6).join(', ')},
                          ${SBI_EXTS.slice(6).join(', ')}. DBCN is on by default (its
                          console is answered by kvm-riscv)
  --trace <file>          write every vCPU exit to <file>, one JSON object per line
  --no-stats              do not print the exit-statistics table on stderr at the end
  -v, --verbose           print backend, load addresses and boot events on stderr
  -h, --help              show this help
  --version               print the version

Console:
  When stdin is a terminal it is put in raw mode, so every key (Ctrl-C included) goes to the guest.
  Ctrl-A x quits (like QEMU), Ctrl-A Ctrl-A sends a Ctrl-A. Without a terminal, stdin is passed
  through as is and SIGINT stops the guest.

When the guest ends, a table of vCPU exits by reason (and SBI calls by extension) is printed on
stderr.

Exit status:
  0  the guest shut down (SBI system_reset shutdown, reason "no reason")
  1  the guest shut down with reason "system failure" or any other reason, or reported a crash
  2  the guest asked for a reboot and --reboot exit was given (or the restart limit was reached)
  3  the --timeout expired
  4  error: unreadable or invalid kernel, initrd or disk, not enough memory, backend failure
  5  bad usage (unknown option, missing --kernel, bad value)
  130  interrupted (SIGINT, or Ctrl-A x)
`;
