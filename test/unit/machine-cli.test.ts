// `kvm-riscv run` on the Machine, in-process against the scripted fake backend: disks, --smp,
// --trace, the statistics table, bad input (one message naming it, status 4 or 5, disks untouched)
// and the terminal escape filter.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SBI_EXT_DBCN } from '../../lib/abi/sbi.js';
import { regId } from '../../lib/abi/regs.js';
import { findNode, parseFdt, propStrings } from '../../lib/boot/fdt.js';
import { runCli, type CliDeps } from '../../lib/cli/cli.js';
import { ConsoleEscapeFilter } from '../../lib/cli/console-escape.js';
import { HELP_TEXT, MAX_DISKS, parseArgs } from '../../lib/cli/args.js';
import { FakeHypervisor, sbiExit, srstExit, type ExitScript } from '../e2e/support/fake-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FLAT = new TextEncoder().encode('flat guest bytes');

function harness(script: ExitScript, files: Record<string, Uint8Array> = {}) {
  let out = '';
  let err = '';
  const hvs: FakeHypervisor[] = [];
  const opened: Parameters<CliDeps['openHypervisor']>[0][] = [];
  const deps: CliDeps = {
    openHypervisor: async (opts) => { opened.push(opts); const hv = new FakeHypervisor(script); hvs.push(hv); return hv; },
    readFile: (p) => {
      if (p in files) return files[p]!;
      if (p === 'g.bin') return FLAT;
      return new Uint8Array(readFileSync(p));
    },
    stdout: { write: (b) => { out += Buffer.from(b).toString(); } },
    stderr: { write: (s) => { err += s; } },
    version: 'test',
  };
  return { deps, out: () => out, err: () => err, hvs, opened };
}

const printThenShutdown: ExitScript = (() => {
  const steps = new WeakMap<object, number>();
  return (vcpu, vm) => {
    if (vcpu.id !== 0) return vcpu.blockUntilStopped();
    const n = (steps.get(vm) ?? 0) + 1;
    steps.set(vm, n);
    return n === 1 ? sbiExit(SBI_EXT_DBCN, 0, 4n, vcpu.getReg(regId('core.pc')), 0n) : srstExit('shutdown', 0n);
  };
})();

function diskFile(name: string): { path: string; mtime: number } {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(8192, 0x33));
  return { path, mtime: statSync(path).mtimeMs };
}

describe('kvm-riscv run on the Machine', () => {
  it('--smp, --disk, --trace: 2 harts, the disk on the bus, every exit in the trace, the table on stderr', async () => {
    const d = diskFile('ok.img');
    const trace = join(dir, 'trace.jsonl');
    const h = harness(printThenShutdown);
    expect(await runCli(['run', '--kernel', 'g.bin', '--smp', '2', '--disk', `${d.path},ro`, '--trace', trace], h.deps)).toBe(0);
    expect(h.out()).toBe('flat');
    expect(h.hvs[0]!.vms[0]!.vcpus.map((v) => v.id)).toEqual([0, 1]);
    const lines = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; hart: number });
    // Hart 0 made the calls; hart 1 (stopped, waiting for HSM) was kicked out when the guest ended.
    expect(lines.filter((l) => l.hart === 0).map((l) => l.reason)).toEqual(['sbi', 'system_event']);
    expect(lines.filter((l) => l.hart === 1).map((l) => l.reason)).toEqual(['interrupted']);
    expect(h.err()).toMatch(/exit reason\s+count\s+share\n/);
    expect(h.err()).toMatch(/^sbi\s+1\s+33\.3%\n {2}sbi DBCN\s+1\s+33\.3%$/m);
    expect(h.err()).toMatch(/^total\s+3\s+100\.0%$/m);
    expect(statSync(d.path).mtimeMs).toBe(d.mtime);
  });

  it.each([
    ['a missing disk', ['--disk', join(dir, 'nope.img')], /^kvm-riscv: disk .*nope\.img: no such file\n$/],
    ['an initrd larger than RAM', ['--initrd', 'big.cpio', '-m', '16M'], /^kvm-riscv: big\.cpio: \d+ bytes do not fit in 16777216 bytes of RAM\n$/],
    ['an empty initrd', ['--initrd', 'empty.cpio'], /^kvm-riscv: empty\.cpio: the initrd is empty\n$/],
    ['a garbage ELF kernel', ['--kernel', 'bad.elf'], /^kvm-riscv: bad\.elf: .*ELF.*\n$/],
  ])('%s → 4 with one line naming it; the disk image is untouched', async (_what, extra, message) => {
    const d = diskFile('keep.img');
    const h = harness(printThenShutdown, {
      'big.cpio': new Uint8Array(17 << 20),
      'empty.cpio': new Uint8Array(0),
      'bad.elf': Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0),
    });
    const argv = ['run', '--kernel', 'g.bin', '--disk', d.path, ...extra];
    // A second --kernel replaces the first only through the files table: drop the default one.
    if (extra[0] === '--kernel') argv.splice(1, 2);
    expect(await runCli(argv, h.deps)).toBe(4);
    expect(h.err()).toMatch(message);
    expect(h.out()).toBe('');
    expect(statSync(d.path).mtimeMs).toBe(d.mtime);
    expect(readFileSync(d.path).every((b) => b === 0x33)).toBe(true);
  });

  it.each([
    [['--smp', '0'], /--smp: 0 is not 1\.\.64/],
    [['--smp', 'two'], /--smp: 'two' is not a number/],
    [['--disk', ',ro'], /--disk: ',ro' names no file/],
    [['--disk', 'a.img,rw,fast'], /--disk: unknown option 'fast'/],
    [['--reboot', 'never'], /--reboot must be restart or exit/],
    [['-m', '1M'], /--memory: 1M is less than the minimum/],
  ])('%j → usage error 5', async (extra, message) => {
    const h = harness(printThenShutdown);
    expect(await runCli(['run', '--kernel', 'g.bin', ...extra], h.deps)).toBe(5);
    expect(h.err()).toMatch(message);
    expect(h.hvs).toHaveLength(0);
  });

  it('--sbi-ext sets in-kernel SBI extensions on every vCPU; an unknown one is a usage error', async () => {
    const seen: bigint[] = [];
    const h = harness((vcpu) => { seen.push(vcpu.getReg(regId('sbi_ext.DBCN'))); return srstExit('shutdown', 0n); });
    expect(await runCli(['run', '--kernel', 'g.bin', '--sbi-ext', 'dbcn=off', '--no-stats'], h.deps)).toBe(0);
    expect(seen).toEqual([0n]);
    expect(parseArgs(['run', '--kernel', 'k', '--sbi-ext', 'PMU=off', '--sbi-ext=sta=on'])).toMatchObject({ inKernelSbi: { PMU: false, STA: true } });
    expect(() => parseArgs(['run', '--kernel', 'k', '--sbi-ext', 'FOO=on'])).toThrow(/unknown extension 'FOO'/);
    expect(() => parseArgs(['run', '--kernel', 'k', '--sbi-ext', 'PMU'])).toThrow(/NAME=on or NAME=off/);
  });

  it('--help explains every run flag and the console escape', () => {
    for (const flag of ['--kernel', '--initrd', '--append', '-m, --memory', '--smp', '--disk', '--backend', '--reboot', '--timeout', '--trace', '--sbi-ext', '--no-stats', '--verbose']) {
      expect(HELP_TEXT).toContain(flag);
    }
    expect(HELP_TEXT).toMatch(/Ctrl-A x quits/);
  });

  it('--disk repeats; -m and --memory are the same flag', () => {
    expect(parseArgs(['run', '--kernel', 'k', '--disk', 'a.img', '--disk=b.img,ro', '-m', '64M'])).toMatchObject({
      disks: [{ path: 'a.img', readonly: false }, { path: 'b.img', readonly: true }], memorySize: 64 << 20,
    });
    expect(() => parseArgs(['run', '--kernel', 'k', '-m', '64M', '--memory', '64M'])).toThrow(/given twice/);
  });

  it('--console virtio makes a virtio console the guest\'s stdout-path; the UART is the default', async () => {
    const stdoutPaths: string[] = [];
    const script: ExitScript = (vcpu, vm) => {
      if (vcpu.id) return vcpu.blockUntilStopped();
      // The device tree the guest got: a1 at entry (Linux boot.rst), its size from its header.
      const ram = vm.regions[0]!;
      const at = vcpu.getReg(regId('core.a1'));
      const size = new DataView(ram.readBytes(at, 8).buffer).getUint32(4, false);
      const chosen = findNode(parseFdt(ram.readBytes(at, size)).root, '/chosen')!;
      stdoutPaths.push(propStrings(chosen.props.get('stdout-path')!)[0]!);
      return srstExit('shutdown', 0n);
    };
    expect(await runCli(['run', '--kernel', 'g.bin', '--no-stats'], harness(script).deps)).toBe(0);
    expect(await runCli(['run', '--kernel', 'g.bin', '--console', 'virtio', '--no-stats'], harness(script).deps)).toBe(0);
    expect(stdoutPaths).toEqual(['/soc/serial@10000000', '/soc/virtio_mmio@10001000']);
    expect(() => parseArgs(['run', '--kernel', 'g.bin', '--console', 'hvc'])).toThrow(/--console must be uart or virtio; got 'hvc'/);
    expect(HELP_TEXT).toMatch(/--console <device>/);
    // The console takes one of the virtio-mmio slots the disks could have had.
    const disks = (n: number): string[] => Array.from({ length: n }, (_, i) => `--disk=d${i}.img`);
    expect(() => parseArgs(['run', '--kernel', 'g.bin', ...disks(MAX_DISKS)])).not.toThrow();
    expect(() => parseArgs(['run', '--kernel', 'g.bin', '--console', 'virtio', ...disks(MAX_DISKS)])).toThrow(new RegExp(`at most ${MAX_DISKS - 1} disks .*virtio console`));
  });

  it('--time reaches the backend choice: realtime by default, deterministic when asked', async () => {
    const h = harness(printThenShutdown);
    expect(await runCli(['run', '--kernel', 'g.bin', '--no-stats'], h.deps)).toBe(0);
    expect(await runCli(['run', '--kernel', 'g.bin', '--backend', 'emulator', '--time', 'deterministic', '--no-stats'], h.deps)).toBe(0);
    expect(h.opened).toEqual([{ backend: 'auto', emulatorTime: 'realtime' }, { backend: 'emulator', emulatorTime: 'deterministic' }]);
  });

  it('the default reboot policy restarts the guest; --reboot exit ends with 2', async () => {
    let boots = 0;
    const script: ExitScript = (vcpu) => { if (vcpu.id) return vcpu.blockUntilStopped(); boots++; return boots < 3 ? srstExit('reset', 0n) : srstExit('shutdown', 0n); };
    const h = harness(script);
    expect(await runCli(['run', '--kernel', 'g.bin', '--no-stats'], h.deps)).toBe(0);
    expect(boots).toBe(3);
    expect(h.err()).toBe('');
    boots = 0;
    const e = harness(script);
    expect(await runCli(['run', '--kernel', 'g.bin', '--reboot', 'exit', '--no-stats'], e.deps)).toBe(2);
    expect(boots).toBe(1);
  });

  it('Ctrl-A x from the input quits with 130; input before it reaches the guest', async () => {
    const h = harness((vcpu) => vcpu.blockUntilStopped());
    h.deps.input = (onData, onQuit) => {
      const filter = new ConsoleEscapeFilter();
      const timer = setTimeout(() => {
        const r = filter.feed(Uint8Array.of(0x61, 0x01, 0x78, 0x62));
        if (r.bytes.length) onData(r.bytes);
        if (r.quit) onQuit();
      }, 10);
      return () => clearTimeout(timer);
    };
    expect(await runCli(['run', '--kernel', 'g.bin', '--no-stats'], h.deps)).toBe(130);
    expect(h.err()).toMatch(/interrupted/);
  });
});

describe('ConsoleEscapeFilter (Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A)', () => {
  it.each([
    [[0x68, 0x69], [0x68, 0x69], false],
    [[0x68, 0x01, 0x78, 0x69], [0x68], true],
    [[0x01, 0x58], [], true],
    [[0x01, 0x01, 0x7a], [0x01, 0x7a], false],
    [[0x01, 0x63], [0x01, 0x63], false],
    [[0x03], [0x03], false],
  ])('%j → %j, quit %s', (input, bytes, quit) => {
    expect(new ConsoleEscapeFilter().feed(Uint8Array.from(input))).toEqual({ bytes: Uint8Array.from(bytes), quit });
  });

  it('an escape split across chunks still pairs up', () => {
    const f = new ConsoleEscapeFilter();
    expect(f.feed(Uint8Array.of(0x61, 0x01))).toEqual({ bytes: Uint8Array.of(0x61), quit: false });
    expect(f.feed(Uint8Array.of(0x78))).toEqual({ bytes: new Uint8Array(0), quit: true });
  });
});
