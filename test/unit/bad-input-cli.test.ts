// Bad input to `kvm-riscv run`, in process (runCli with the real file reader and the scripted fake
// backend): every flag and input file. Bad usage exits 5 with the message and the --help hint and
// opens nothing; a bad file or backend exits 4 with one line naming the file or flag; neither
// prints a stack trace, writes to stdout, creates or truncates a file (--trace included), or
// touches a disk image; every VM that was created is closed.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvmUnavailableError } from '../../lib/errors.js';
import { MAX_SLOT_BYTES } from '../../lib/backend/emulator/vm.js';
import { openHypervisor } from '../../lib/vmm/select-backend.js';
import { EXIT_ERROR, EXIT_SHUTDOWN, EXIT_USAGE, readInputFile, runCli, type CliDeps } from '../../lib/cli/cli.js';
import { FakeHypervisor, srstExit, type ExitScript } from '../e2e/support/fake-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-bad-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string): string => join(dir, name);

writeFileSync(f('guest.bin'), 'flat guest bytes');
writeFileSync(f('empty'), '');
writeFileSync(f('trunc.elf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
const x86 = Buffer.alloc(64);
x86.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
x86.writeUInt16LE(2, 16);
x86.writeUInt16LE(62, 18);
writeFileSync(f('x86.elf'), x86);
writeFileSync(f('huge.bin'), Buffer.alloc(9 << 20));
writeFileSync(f('big.bin'), Buffer.alloc(7 << 20));
writeFileSync(f('initrd.cpio'), Buffer.concat([Buffer.from('070701'), Buffer.alloc(200)]));
writeFileSync(f('vmlinuz'), Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(4092)]));
writeFileSync(f('odd.img'), Buffer.alloc(1000));
writeFileSync(f('disk.img'), Buffer.alloc(4096, 0x33));
writeFileSync(f('old-trace.json'), 'an earlier trace\n');
mkdirSync(f('a-dir'));

const shutdown: ExitScript = (vcpu) => (vcpu.id === 0 ? srstExit('shutdown', 0n) : vcpu.blockUntilStopped());

function harness(over: Partial<CliDeps> = {}) {
  let err = '';
  const out: number[] = [];
  const hvs: FakeHypervisor[] = [];
  const deps: CliDeps = {
    openHypervisor: async () => { const hv = new FakeHypervisor(shutdown); hvs.push(hv); return hv; },
    readFile: readInputFile,
    stdout: { write: (b) => { out.push(...b); } },
    stderr: { write: (s) => { err += s; } },
    version: '0.0.0',
    ...over,
  };
  return { deps, err: () => err, out: () => Buffer.from(out).toString(), hvs };
}

/** Names and contents of every file in the scratch directory, to show nothing was written. */
function snapshot(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (statSync(f(name)).isFile()) files[name] = readFileSync(f(name)).toString('hex');
    else files[name] = '<dir>';
  }
  return files;
}

const RUN = ['run', '--kernel', f('guest.bin'), '--no-stats', '--disk', f('disk.img')];

describe('kvm-riscv run: bad usage → 5, nothing opened or written', () => {
  it.each([
    [['run'], /--kernel <file> is required/],
    [['run', '--kernel', ''], /--kernel <file> is required/],
    [[...RUN, '--kernel', f('x86.elf')], /--kernel given twice/],
    [[...RUN, '--initrd', ''], /--initrd needs a file name/],
    [[...RUN, '--trace', ''], /--trace needs a file name/],
    [[...RUN, '--append'], /--append needs a value/],
    [[...RUN, '--backend', 'qemu'], /--backend must be one of auto, kvm, emulator; got 'qemu'/],
    [[...RUN, '-m', '0'], /--memory: 0 is less than the minimum 8M/],
    [[...RUN, '-m', '-5M'], /--memory: '-5M' is not a size/],
    [[...RUN, '-m', '100T'], /--memory: '100T' is not a size/],
    [[...RUN, '-m', '4097'], /--memory: 4097 bytes is not a multiple of 4 KiB/],
    [[...RUN, '-m', '64G'], /--memory: 64G is more than the maximum 16G/],
    [[...RUN, '-m', '99999999999999999999G'], /--memory: '99999999999999999999G' is too large/],
    [[...RUN, '--smp', '0'], /--smp: 0 is not 1\.\.64/],
    [[...RUN, '--smp', '65'], /--smp: 65 is not 1\.\.64/],
    [[...RUN, '--smp', '1e3'], /--smp: '1e3' is not a number of harts/],
    [[...RUN, '--smp', '-1'], /--smp: '-1' is not a number of harts/],
    [[...RUN, '--disk', ''], /--disk: '' names no file/],
    [[...RUN, '--disk', 'a.img,rx'], /--disk: unknown option 'rx' in 'a\.img,rx' \(ro or rw\)/],
    [['run', '--kernel', f('guest.bin'), ...Array.from({ length: 8 }, () => ['--disk', f('disk.img')]).flat()], /--disk: at most 7 disks fit the memory map \(with the entropy device\); got 8/],
    [[...RUN, '--sbi-ext', 'FOO=on'], /--sbi-ext: unknown extension 'FOO' \(one of V01, TIME/],
    [[...RUN, '--sbi-ext', 'DBCN'], /--sbi-ext: 'DBCN' is not NAME=on or NAME=off/],
    [[...RUN, '--sbi-ext', 'PMU=off', '--sbi-ext', 'pmu=on'], /--sbi-ext: PMU given twice \(off, then on\)/],
    [[...RUN, '--timeout', '-1'], /--timeout: '-1' is not a duration/],
    [[...RUN, '--timeout', '30d'], /--timeout: '30d' is not a duration/],
    [[...RUN, '--timeout', '9999999999s'], /--timeout: '9999999999s' is out of range/],
    [[...RUN, '--reboot', 'never'], /--reboot must be restart or exit; got 'never'/],
    [[...RUN, '--bogus'], /unknown option '--bogus'/],
    [[...RUN, 'extra'], /unexpected argument 'extra' \(give the program with --kernel\)/],
    [['runn'], /unknown command 'runn' \(the command is 'run'\)/],
    [[], /no command given/],
  ])('%j', async (argv, message) => {
    const before = snapshot();
    const h = harness();
    // With a --trace file too (unless the case is about --trace): it must not be created.
    const full = argv[0] === 'run' && !argv.includes('--trace') ? ['run', '--trace', f('new-trace.json'), ...argv.slice(1)] : argv;
    expect(await runCli(full, h.deps)).toBe(EXIT_USAGE);
    const lines = h.err().split('\n');
    expect(lines[0]).toMatch(/^kvm-riscv: /);
    expect(lines[0]).toMatch(message);
    expect(lines.slice(1)).toEqual(["Try 'kvm-riscv --help'.", '']);
    expect(h.out()).toBe('');
    expect(h.hvs).toHaveLength(0);
    expect(snapshot()).toEqual(before);
  });
});

describe('kvm-riscv run: bad files and backends → 4 with one line naming them', () => {
  const eacces = (path: string) => Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES', syscall: 'open', path });
  it.each([
    ['a missing kernel', [f('missing.bin')], [], /^kvm-riscv: \S+missing\.bin: no such file$/],
    ['a directory as the kernel', [f('a-dir')], [], /^kvm-riscv: \S+a-dir: is a directory$/],
    ['a path through a file', [f('guest.bin/x')], [], /^kvm-riscv: \S+guest\.bin\/x: a component of the path is not a directory$/],
    ['/dev/zero as the kernel (would never end)', ['/dev/zero'], [], /^kvm-riscv: \/dev\/zero: not a regular file$/],
    ['an empty kernel', [f('empty')], [], /^kvm-riscv: \S+empty: the image is empty \(0 bytes\)$/],
    ['a truncated ELF', [f('trunc.elf')], [], /^kvm-riscv: \S+trunc\.elf: truncated ELF: 8 bytes, the ELF64 header alone is 64$/],
    ['an x86-64 ELF', [f('x86.elf')], [], /^kvm-riscv: \S+x86\.elf: not a RISC-V executable: e_machine is 62 \(x86-64\)/],
    ['a gzip-compressed kernel', [f('vmlinuz')], [], /^kvm-riscv: \S+vmlinuz: this is a gzip-compressed file, not a kernel: decompress it first/],
    ['an initramfs as the kernel', [f('trunc.elf').replace('trunc.elf', 'initrd.cpio')], [], /^kvm-riscv: \S+initrd\.cpio: this is a cpio archive \(an initramfs\?\), not a kernel: give it with --initrd/],
    ['a kernel larger than RAM (refused before it is read)', [f('huge.bin')], ['-m', '8M'], /^kvm-riscv: \S+huge\.bin: 9437184 bytes, more than the guest RAM \(--memory 8M\); not read$/],
    ['a kernel that fits RAM but not above the kernel load address', [f('big.bin')], ['-m', '8M'], /^kvm-riscv: \S+big\.bin: flat binary of 7340032 bytes at \[0x80200000, 0x80900000\) is outside RAM/],
    ['a missing initrd', [f('guest.bin')], ['--initrd', f('missing.cpio')], /^kvm-riscv: \S+missing\.cpio: no such file$/],
    ['an empty initrd', [f('guest.bin')], ['--initrd', f('empty')], /^kvm-riscv: \S+empty: the initrd is empty$/],
    ['a directory as the initrd', [f('guest.bin')], ['--initrd', f('a-dir')], /^kvm-riscv: \S+a-dir: is a directory$/],
    ['an initrd larger than RAM', [f('guest.bin')], ['--initrd', f('huge.bin'), '-m', '8M'], /^kvm-riscv: \S+huge\.bin: 9437184 bytes, more than the guest RAM \(--memory 8M\); not read$/],
    ['an initrd that fits RAM but not beside the kernel', [f('guest.bin')], ['--initrd', f('big.bin'), '-m', '8M'], /^kvm-riscv: \S+big\.bin: no room for the 7340032-byte initrd between the kernel \(ends at 0x[0-9a-f]+\) and the FDT/],
    ['a missing disk', [f('guest.bin')], ['--disk', f('missing.img')], /^kvm-riscv: disk \S+missing\.img: no such file$/],
    ['a directory as a disk', [f('guest.bin')], ['--disk', f('a-dir')], /^kvm-riscv: disk \S+a-dir: is a directory$/],
    ['a disk of 1000 bytes', [f('guest.bin')], ['--disk', f('odd.img')], /^kvm-riscv: disk \S+odd\.img: size 1000 is not a multiple of 512 bytes$/],
    ['--trace into a missing directory', [f('guest.bin')], ['--trace', f('no-dir/t.json')], /^kvm-riscv: --trace: \S+no-dir\/t\.json: no such file$/],
    ['--trace at a directory', [f('guest.bin')], ['--trace', f('a-dir')], /^kvm-riscv: --trace: \S+a-dir: is a directory$/],
    ['--smp beyond the backend', [f('guest.bin')], ['--smp', '9'], /^kvm-riscv: --smp: 9 is more than this backend's 8$/],
    ['--append beyond the device tree', [f('guest.bin')], ['--append', 'x'.repeat(70_000)], /^kvm-riscv: --append: with this 70000-byte command line the device tree is \d+ bytes, more than its 65536-byte slot$/],
  ])('%s', async (_what, kernel, extra, message) => {
    const before = snapshot();
    const h = harness();
    const argv = ['run', '--kernel', kernel[0]!, '--no-stats', '--disk', f('disk.img'), ...extra];
    expect(await runCli(argv, h.deps)).toBe(EXIT_ERROR);
    expect(h.err()).toMatch(/\n$/);
    expect(h.err().split('\n')).toHaveLength(2); // one line
    expect(h.err().trimEnd()).toMatch(message);
    expect(h.err()).not.toMatch(/\n\s+at /);
    expect(h.out()).toBe('');
    expect(snapshot()).toEqual(before);
    expect(h.hvs.flatMap((hv) => hv.vms).every((vm) => vm.closed)).toBe(true);
  });

  it('an unreadable kernel or initrd (EACCES) is named with "permission denied"', async () => {
    for (const [flag, victim] of [['--kernel', f('x86.elf')], ['--initrd', f('empty')]] as const) {
      const h = harness({ readFile: (p) => { if (p === victim) throw eacces(p); return readInputFile(p); } });
      const argv = ['run', '--kernel', flag === '--kernel' ? victim : f('guest.bin'), ...(flag === '--initrd' ? ['--initrd', victim] : [])];
      expect(await runCli(argv, h.deps)).toBe(EXIT_ERROR);
      expect(h.err()).toBe(`kvm-riscv: ${victim}: permission denied\n`);
      expect(h.hvs).toHaveLength(0);
    }
  });

  it.skipIf(MAX_SLOT_BYTES > 2 ** 34)('more --memory than the emulator can back → 4 naming --memory, before the guest runs', async () => {
    const h = harness({ openHypervisor });
    expect(await runCli(['run', '--kernel', f('guest.bin'), '--backend', 'emulator', '-m', '8G', '--no-stats'], h.deps)).toBe(EXIT_ERROR);
    expect(h.err()).toBe(`kvm-riscv: --memory 8192M: KVM_SET_USER_MEMORY_REGION (slot 0: 8589934592 bytes is more than the emulator's largest slot, ${MAX_SLOT_BYTES} bytes): Cannot allocate memory\n`);
  });

  it('--backend kvm without usable KVM → 4, the reason first and the checks after it', async () => {
    const h = harness({
      openHypervisor: async () => { throw new KvmUnavailableError('/dev/kvm is not accessible (EACCES): add your user to the kvm group', ['/pkg/prebuilds/linux-riscv64/kvm_riscv.node: loaded', '/dev/kvm: EACCES']); },
    });
    expect(await runCli([...RUN, '--backend', 'kvm'], h.deps)).toBe(EXIT_ERROR);
    const lines = h.err().trimEnd().split('\n');
    expect(lines[0]).toBe('kvm-riscv: KVM backend unavailable: /dev/kvm is not accessible (EACCES): add your user to the kvm group');
    expect(lines.slice(1).map((l) => l.trim())).toEqual(['/pkg/prebuilds/linux-riscv64/kvm_riscv.node: loaded', '/dev/kvm: EACCES']);
    expect(h.err()).not.toMatch(/\n\s+at /);
  });
});

describe('--trace loses nothing', () => {
  it('a run that fails to start leaves an earlier trace as it was and creates no new one', async () => {
    for (const trace of [f('old-trace.json'), f('fresh-trace.json')]) {
      const before = snapshot();
      const h = harness();
      expect(await runCli([...RUN, '--disk', f('missing.img'), '--trace', trace], h.deps)).toBe(EXIT_ERROR);
      expect(snapshot()).toEqual(before);
    }
    expect(readFileSync(f('old-trace.json'), 'utf8')).toBe('an earlier trace\n');
  });

  it('a run that starts replaces the file with its exits', async () => {
    const trace = f('replaced-trace.json');
    writeFileSync(trace, 'an earlier, longer trace that must not survive as a tail\n'.repeat(100));
    const h = harness();
    expect(await runCli([...RUN, '--trace', trace], h.deps)).toBe(EXIT_SHUTDOWN);
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual(['system_event']);
    rmSync(trace);
  });
});

describe('readInputFile: a pipe (--kernel <(...)) is read up to the guest RAM size', () => {
  /** A FIFO fed `bytes` zero bytes by a separate writer process. */
  function fifoWith(name: string, bytes: number): { path: string; writer: ReturnType<typeof spawn> } {
    const path = f(name);
    execFileSync('mkfifo', [path]);
    const writer = spawn('sh', ['-c', `head -c ${bytes} /dev/zero > '${path}'`], { stdio: 'ignore' });
    return { path, writer };
  }

  it('one that fits is read whole', () => {
    const { path, writer } = fifoWith('small.fifo', 3 << 20);
    const bytes = readInputFile(path, 8 << 20);
    expect(bytes.length).toBe(3 << 20);
    writer.kill();
  });

  it('one that goes on past the RAM size is refused with EFBIG, not read to its end', () => {
    const { path, writer } = fifoWith('big.fifo', 64 << 20);
    let err: NodeJS.ErrnoException | undefined;
    try { readInputFile(path, 1 << 20); } catch (e) { err = e as NodeJS.ErrnoException; }
    expect(err?.code).toBe('EFBIG');
    expect(err?.message).toBe('more bytes than the guest RAM (--memory 1M); not read in full');
    writer.kill();
  });
});
