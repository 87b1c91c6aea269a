/**
 * The `kvm-riscv` command, as a function of (argv, dependencies) → exit status, so tests can run it
 * in-process with a fake backend. lib/cli/main.ts is the executable wrapper.
 */
import { readFileSync } from 'node:fs';
import type { Hypervisor } from '../backend/types.js';
import { KernelImageError, loadKernelImage } from '../boot/elf.js';
import { RAM_BASE } from '../boot/layout.js';
import { KvmError, KvmStateError, KvmUnavailableError } from '../errors.js';
import type { ConsoleInput } from '../sbi/dbcn.js';
import { runBareMetal, type BareMetalResult } from '../vmm/bare-metal.js';
import { openHypervisor, type BackendChoice } from '../vmm/select-backend.js';
import type { RunResult } from '../vmm/run-loop.js';
import { HELP_TEXT, UsageError, parseArgs, type RunCommand } from './args.js';

export const EXIT_SHUTDOWN = 0;
export const EXIT_SYSTEM_FAILURE = 1;
export const EXIT_REBOOT = 2;
export const EXIT_TIMEOUT = 3;
export const EXIT_ERROR = 4;
export const EXIT_USAGE = 5;
export const EXIT_INTERRUPTED = 130;

export interface CliDeps {
  openHypervisor(opts: { backend: BackendChoice }): Promise<Hypervisor>;
  readFile(path: string): Uint8Array;
  stdout: { write(b: Uint8Array): void };
  stderr: { write(s: string): void };
  stdin?: ConsoleInput;
  /** Aborts the run (SIGINT). */
  signal?: AbortSignal;
  version: string;
}

export function defaultDeps(version: string): CliDeps {
  return {
    openHypervisor,
    readFile: (p) => new Uint8Array(readFileSync(p)),
    stdout: { write: (b) => { process.stdout.write(b); } },
    stderr: { write: (s) => { process.stderr.write(s); } },
    version,
  };
}

/** Exit status for how the guest ended (see HELP_TEXT "Exit status"). */
export function exitStatusFor(result: RunResult): number {
  switch (result.kind) {
    case 'shutdown': return result.reason === 0n ? EXIT_SHUTDOWN : EXIT_SYSTEM_FAILURE;
    case 'reset': return EXIT_REBOOT;
    case 'crash': return EXIT_SYSTEM_FAILURE;
    case 'timeout': return EXIT_TIMEOUT;
    case 'interrupted': return EXIT_INTERRUPTED;
    case 'error': return EXIT_ERROR;
  }
}

function describeResult(result: RunResult, cmd: RunCommand): string | undefined {
  switch (result.kind) {
    case 'shutdown': return result.reason === 0n ? undefined : `guest shut down with reason ${result.reason === 1n ? 'system failure' : `0x${result.reason.toString(16)}`}`;
    case 'reset': return `guest asked for a reboot (SRST reason 0x${result.reason.toString(16)}); not restarting it`;
    case 'crash': return 'guest crashed';
    case 'timeout': return `timeout: the guest was still running after ${cmd.timeoutMs} ms`;
    case 'interrupted': return 'interrupted';
    case 'error': return `error: ${result.message}`;
  }
}

/** One line naming the problem; `file` is the file being read or loaded when it happened. */
function errorMessage(e: unknown, file: string): string {
  if (e instanceof KernelImageError) return `${file}: ${e.message}`;
  if (e instanceof KvmUnavailableError || e instanceof KvmError || e instanceof KvmStateError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && err.code === 'ENOENT' && err.syscall === 'open') return `${file}: no such file`;
  if (err && typeof err === 'object' && err.code === 'EISDIR') return `${file}: is a directory`;
  if (err && typeof err === 'object' && err.code === 'EACCES') return `${file}: permission denied`;
  if (e instanceof RangeError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

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

  let image: Uint8Array;
  let initrd: Uint8Array | undefined;
  let hv: Hypervisor;
  let outcome: BareMetalResult;
  try {
    image = deps.readFile(cmd.kernel);
    // Validate the whole image against the RAM window first (nothing written), so a bad file is
    // reported as such whatever the backend, before any VM exists.
    loadKernelImage(image, { base: RAM_BASE, size: cmd.memorySize }, { writeBytes() {}, fill() {} });
  } catch (e) {
    deps.stderr.write(`kvm-riscv: ${errorMessage(e, cmd.kernel)}\n`);
    return EXIT_ERROR;
  }
  if (cmd.initrd !== undefined) {
    try {
      initrd = deps.readFile(cmd.initrd);
    } catch (e) {
      deps.stderr.write(`kvm-riscv: ${errorMessage(e, cmd.initrd)}\n`);
      return EXIT_ERROR;
    }
  }
  try {
    hv = await deps.openHypervisor({ backend: cmd.backend });
  } catch (e) {
    deps.stderr.write(`kvm-riscv: ${errorMessage(e, cmd.kernel)}\n`);
    return EXIT_ERROR;
  }
  try {
    log(`backend ${hv.backend}, ${cmd.memorySize / 1024 / 1024} MiB RAM`);
    outcome = await runBareMetal({
      hypervisor: hv,
      image,
      memorySize: cmd.memorySize,
      bootargs: cmd.append,
      initrd,
      timeoutMs: cmd.timeoutMs,
      signal: deps.signal,
      output: deps.stdout,
      input: deps.stdin,
      warn: (m) => deps.stderr.write(`kvm-riscv: warning: ${m}\n`),
      onReady: ({ image: img, fdtAddress, initrd: rd }) => {
        const kind = { elf: 'ELF', flat: 'flat binary', 'linux-image': 'Linux Image' }[img.kind];
        log(`${kind} loaded at [0x${img.start.toString(16)}, 0x${img.end.toString(16)}), entry 0x${img.entry.toString(16)}, FDT at 0x${fdtAddress.toString(16)}` +
          (rd ? `, initrd at [0x${rd.start.toString(16)}, 0x${rd.end.toString(16)})` : ''));
      },
    });
  } catch (e) {
    deps.stderr.write(`kvm-riscv: ${errorMessage(e, cmd.kernel)}\n`);
    return EXIT_ERROR;
  } finally {
    try { hv.close(); } catch { /* closing is best effort */ }
  }
  const { result } = outcome;
  log(`${outcome.counters.exits} exits (${outcome.counters.sbi} SBI, ${outcome.counters.mmio} MMIO, ${outcome.counters.csr} CSR); ` +
    `${outcome.unmappedReads} unmapped loads, ${outcome.unmappedWrites} unmapped stores, ${outcome.unsupportedSbiCalls} unsupported SBI calls`);
  const message = describeResult(result, cmd);
  if (message) deps.stderr.write(`kvm-riscv: ${message}\n`);
  return exitStatusFor(result);
}
