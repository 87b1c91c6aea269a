/**
 * The `kvm-riscv` command, as a function of (argv, dependencies) → exit status, so tests can run it
 * in-process with a fake backend. lib/cli/main.ts is the executable wrapper (terminal raw mode,
 * Ctrl-A x, SIGINT). `run` builds a Machine (lib/vmm/machine.ts) from the flags.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Hypervisor } from '../backend/types.js';
import { KernelImageError, loadKernelImage } from '../boot/elf.js';
import { ImageFile, VALIDATE_ONLY } from '../boot/image-file.js';
import { RAM_BASE } from '../boot/layout.js';
import { KvmError, KvmStateError, KvmUnavailableError } from '../errors.js';
import { Machine, MachineConfigError, type MachineEnd } from '../vmm/machine.js';
import { openHypervisor, type BackendChoice } from '../vmm/select-backend.js';
import { HELP_TEXT, UsageError, parseArgs, type RunCommand } from './args.js';
import { TraceFile } from './trace-file.js';
import { monotonicMs } from '../host/monotonic.js';

export const EXIT_SHUTDOWN = 0;
export const EXIT_SYSTEM_FAILURE = 1;
export const EXIT_REBOOT = 2;
export const EXIT_TIMEOUT = 3;
export const EXIT_ERROR = 4;
export const EXIT_USAGE = 5;
export const EXIT_INTERRUPTED = 130;

/** Host console input: calls `onData` with bytes for the guest and `onQuit` when the user asks to
 * quit (Ctrl-A x); returns a function that stops listening. */
export type HostInput = (onData: (bytes: Uint8Array) => void, onQuit: () => void) => () => void;

export interface CliDeps {
  openHypervisor(opts: { backend: BackendChoice; emulatorTime: 'realtime' | 'deterministic' }): Promise<Hypervisor>;
  /** Opens an input file: a regular file as an ImageFile (read at each boot), a pipe as its bytes;
   * one longer than `maxBytes` (the guest RAM) is refused with code EFBIG before it is read, so a
   * huge file is not loaded only to be rejected. */
  readFile(path: string, maxBytes?: number): Uint8Array | ImageFile;
  stdout: { write(b: Uint8Array): void };
  stderr: { write(s: string): void };
  input?: HostInput;
  /** Aborts the run (SIGINT). */
  signal?: AbortSignal;
  version: string;
}

/**
 * Opens a kernel or initrd. A regular file stays in its file (ImageFile: the machine reads it at
 * each boot, so the CLI does not hold a second copy of the kernel for its whole run); a pipe
 * (`--kernel <(...)`) can be read only once, so its bytes are read now and kept. A character
 * device such as /dev/zero never ends, so it is refused (code ENOTREG) instead of filling memory.
 */
export function readInputFile(path: string, maxBytes = Infinity): Uint8Array | ImageFile {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: is a directory, read '${path}'`), { code: 'EISDIR', syscall: 'read', path });
    if (!st.isFile() && !st.isFIFO()) throw Object.assign(new Error(`not a regular file: '${path}'`), { code: 'ENOTREG', syscall: 'open', path });
    if (st.isFile()) {
      if (st.size > maxBytes) throw tooLarge(path, `${st.size} bytes, more than the guest RAM (--memory ${maxBytes / 1048576}M); not read`);
      return new ImageFile(path);
    }
    return readPipe(fd, path, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** The message is what the CLI prints after the file name (errorMessage). */
function tooLarge(path: string, message: string): Error {
  return Object.assign(new Error(message), { code: 'EFBIG', syscall: 'read', path });
}

/** A pipe has no size up front: read it in chunks and give up one byte past `maxBytes`. */
function readPipe(fd: number, path: string, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(1 << 20);
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw tooLarge(path, `more bytes than the guest RAM (--memory ${maxBytes / 1048576}M); not read in full`);
    chunks.push(chunk.subarray(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

export function defaultDeps(version: string): CliDeps {
  return {
    openHypervisor,
    readFile: readInputFile,
    stdout: { write: (b) => { process.stdout.write(b); } },
    stderr: { write: (s) => { process.stderr.write(s); } },
    version,
  };
}

/** Exit status for how the guest ended (see HELP_TEXT "Exit status"). */
export function exitStatusFor(end: MachineEnd): number {
  switch (end.kind) {
    case 'shutdown':
      if (end.stoppedByHost) return EXIT_INTERRUPTED;
      return end.srstReason === undefined || end.srstReason === 0n ? EXIT_SHUTDOWN : EXIT_SYSTEM_FAILURE;
    case 'reboot': return EXIT_REBOOT;
    case 'crash': return EXIT_SYSTEM_FAILURE;
    case 'timeout': return EXIT_TIMEOUT;
    case 'error': return EXIT_ERROR;
  }
}

function describeEnd(end: MachineEnd, cmd: RunCommand): string | undefined {
  switch (end.kind) {
    case 'shutdown':
      if (end.stoppedByHost) return 'interrupted';
      if (end.srstReason === undefined || end.srstReason === 0n) return undefined;
      return `guest shut down with reason ${end.srstReason === 1n ? 'system failure' : `0x${end.srstReason.toString(16)}`}`;
    case 'reboot': return `guest asked for a reboot (SRST reason 0x${(end.srstReason ?? 0n).toString(16)}); ${cmd.reboot === 'exit' ? 'not restarting it (--reboot exit)' : `${end.reason ?? ''}`}`;
    case 'crash': return 'guest crashed';
    case 'timeout': return `timeout: the guest was still running after ${cmd.timeoutMs} ms`;
    case 'error': return `error: ${end.reason ?? end.error?.message ?? 'unknown'}`;
  }
}

/** What an fs error code means for an input file, in a few words (errno(3)). */
const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  ENOTREG: 'not a regular file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
  ERR_FS_FILE_TOO_LARGE: 'too large to read (more than 2 GiB)',
};

/** One line naming the problem; `file` is the file being read or loaded when it happened. */
function errorMessage(e: unknown, file: string): string {
  if (e instanceof KernelImageError) return `${file}: ${e.message}`;
  if (e instanceof KvmUnavailableError || e instanceof KvmError || e instanceof KvmStateError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && err.code === 'EFBIG') return `${file}: ${err.message}`;
  if (err && typeof err === 'object' && typeof err.code === 'string' && (typeof err.syscall === 'string' || err.code in FILE_ERRORS)) {
    // A Node fs error: "ENOENT: no such file or directory, open 'x'" says it in its own words.
    const why = FILE_ERRORS[err.code] ?? `${err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')} (${err.code})`;
    return `${file}: ${why}`;
  }
  if (e instanceof RangeError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Machine messages name the input generically ("initrd: ..."); the CLI names the file or flag. */
function configErrorMessage(e: MachineConfigError, cmd: RunCommand): string {
  const m = e.message;
  if (m.startsWith('kernel: ')) return `${cmd.kernel}: ${m.slice(8)}`;
  if (m.startsWith('initrd: ') && cmd.initrd !== undefined) return `${cmd.initrd}: ${m.slice(8)}`;
  if (m.startsWith('memory: ')) return `--memory ${cmd.memorySize / 1024 / 1024}M: ${m.slice(8)}`;
  if (m.startsWith('vcpus: ')) return `--smp: ${m.slice(7)}`;
  if (m.startsWith('cmdline: ')) return `--append: ${m.slice(9)}`;
  return m;
}

const KIND_NAMES = { elf: 'ELF', flat: 'flat binary', 'linux-image': 'Linux Image' } as const;

export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let command;
  try {
    command = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      deps.stderr.write(`kvm-riscv: ${e.message}\nTry 'kvm-riscv --help'.\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (command.command === 'help') {
    deps.stdout.write(new TextEncoder().encode(HELP_TEXT));
    return 0;
  }
  if (command.command === 'version') {
    deps.stdout.write(new TextEncoder().encode(`kvm-riscv ${deps.version}\n`));
    return 0;
  }
  const cmd = command;
  const log = (s: string): void => { if (cmd.verbose) deps.stderr.write(`kvm-riscv: ${s}\n`); };
  const fail = (message: string): number => {
    deps.stderr.write(`kvm-riscv: ${message}\n`);
    return EXIT_ERROR;
  };

  let kernel: Uint8Array | ImageFile;
  let initrd: Uint8Array | ImageFile | undefined;
  try {
    kernel = deps.readFile(cmd.kernel, cmd.memorySize);
    // Validate the whole image against the RAM window first (nothing written), so a bad file is
    // reported as such whatever the backend, before any VM exists.
    loadKernelImage(kernel, { base: RAM_BASE, size: cmd.memorySize }, VALIDATE_ONLY);
  } catch (e) {
    return fail(errorMessage(e, cmd.kernel));
  }
  if (cmd.initrd !== undefined) {
    try {
      initrd = deps.readFile(cmd.initrd, cmd.memorySize);
    } catch (e) {
      return fail(errorMessage(e, cmd.initrd));
    }
    if (initrd.length === 0) return fail(`${cmd.initrd}: the initrd is empty`);
  }

  let hv: Hypervisor;
  try {
    // An interactive VMM runs the guest in real time, as KVM does (a deterministic clock would skip
    // a guest's idle waits: its sleep 5 would return at once); --time deterministic opts out.
    hv = await deps.openHypervisor({ backend: cmd.backend, emulatorTime: cmd.time });
  } catch (e) {
    return fail(errorMessage(e, cmd.kernel));
  }
  let machine: Machine;
  let trace: TraceFile | undefined;
  try {
    machine = new Machine({
      backend: hv,
      kernel,
      initrd,
      memorySize: cmd.memorySize,
      vcpus: cmd.smp,
      cmdline: cmd.append,
      disks: cmd.disks,
      reboot: { policy: cmd.reboot },
      inKernelSbi: cmd.inKernelSbi,
      timeoutMs: cmd.timeoutMs,
      consoleOutput: deps.stdout,
      console: cmd.console,
      warn: (m) => deps.stderr.write(`kvm-riscv: warning: ${m}\n`),
    });
    if (cmd.trace !== undefined) {
      try {
        trace = new TraceFile(cmd.trace);
      } catch (e) {
        throw new Error(`--trace: ${errorMessage(e, cmd.trace)}`);
      }
      const t = trace;
      machine.on('exit', (record) => t.writeRecord(record));
    }
  } catch (e) {
    trace?.discard();
    try { hv.close(); } catch { /* best effort */ }
    return fail(errorMessage(e, cmd.kernel));
  }

  machine.on('boot', ({ boot, backend, image: img, fdtAddress, initrd: rd }) => {
    if (boot === 0) log(`backend ${backend}, ${cmd.memorySize / 1024 / 1024} MiB RAM, ${cmd.smp} hart${cmd.smp > 1 ? 's' : ''}`);
    log(`${KIND_NAMES[img.kind]} loaded at [0x${img.start.toString(16)}, 0x${img.end.toString(16)}), entry 0x${img.entry.toString(16)}, FDT at 0x${fdtAddress.toString(16)}` +
      (rd ? `, initrd at [0x${rd.start.toString(16)}, 0x${rd.end.toString(16)})` : ''));
  });
  machine.on('restart', (n) => log(`guest rebooted; restarting it (reboot ${n})`));

  const started = monotonicMs();
  let stopInput: (() => void) | undefined;
  const onAbort = (): void => machine.stop();
  let end: MachineEnd;
  try {
    try {
      await machine.start();
    } catch (e) {
      trace?.discard();
      if (e instanceof MachineConfigError) return fail(configErrorMessage(e, cmd));
      return fail(errorMessage(e, cmd.kernel));
    }
    trace?.begin();
    if (deps.signal?.aborted) machine.stop();
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    stopInput = deps.input?.((bytes) => machine.sendInput(bytes), () => machine.stop());
    end = await machine.done;
  } finally {
    stopInput?.();
    deps.signal?.removeEventListener('abort', onAbort);
    try { hv!.close(); } catch { /* closing is best effort */ }
    try {
      trace?.close();
    } catch (e) {
      deps.stderr.write(`kvm-riscv: --trace ${cmd.trace}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const seconds = (monotonicMs() - started) / 1000;
  const st = machine.statistics;
  const count = (r: string): number => st.byReason.get(r) ?? 0;
  log(`${st.total} exits (${count('sbi')} SBI, ${count('mmio')} MMIO, ${count('csr')} CSR)` + (end.reboots ? `, ${end.reboots} reboots` : ''));
  const message = describeEnd(end, cmd);
  if (message) deps.stderr.write(`kvm-riscv: ${message}\n`);
  if (cmd.stats) deps.stderr.write(`\nkvm-riscv: vCPU exits (${machine.backend ?? cmd.backend} backend)\n${st.format(seconds)}`);
  return exitStatusFor(end);
}
