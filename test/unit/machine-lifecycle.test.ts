// Machine lifecycle against the scripted fake backend: how each ending settles `done`, the reboot
// policy, in-kernel SBI configuration, exits observed for tracing, and console input routing.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regId } from '../../lib/abi/regs.js';
import { SBI_EXT_DBCN } from '../../lib/abi/sbi.js';
import type { VcpuExit } from '../../lib/backend/types.js';
import { Machine, MachineConfigError, type MachineConfig } from '../../lib/vmm/machine.js';
import type { ExitTraceRecord } from '../../lib/vmm/exit-trace.js';
import { FakeHypervisor, sbiExit, srstExit, type ExitScript, type FakeVcpu, type FakeVm } from '../e2e/support/fake-backend.js';

const FLAT = new TextEncoder().encode('flat guest bytes');
const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-machine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Hart 0 follows `steps` (one per run), the others block until stopped (HSM STOPPED). */
function scripted(steps: ((v: FakeVcpu, vm: FakeVm) => VcpuExit | Promise<VcpuExit>)[]): ExitScript {
  let i = 0;
  return (vcpu, vm) => {
    if (vcpu.id !== 0) return vcpu.blockUntilStopped();
    const step = steps[Math.min(i++, steps.length - 1)]!;
    return step(vcpu, vm);
  };
}

function machine(script: ExitScript, extra: Partial<MachineConfig> = {}): { m: Machine; hv: FakeHypervisor } {
  const hv = new FakeHypervisor(script);
  const m = new Machine({ backend: hv, kernel: FLAT, memorySize: 16 << 20, warn: () => {}, ...extra });
  return { m, hv };
}

describe('Machine: how the guest ends', () => {
  it.each([
    ['SRST shutdown, no reason', () => srstExit('shutdown', 0n), { kind: 'shutdown', srstReason: 0n }],
    ['SRST shutdown, system failure', () => srstExit('shutdown', 1n), { kind: 'shutdown', srstReason: 1n, reason: expect.stringMatching(/system failure/) }],
    ['a crash event', (): VcpuExit => ({ reason: 'system_event', type: 'crash', typeCode: 5, data: [] }), { kind: 'crash' }],
    ['an internal error exit', (): VcpuExit => ({ reason: 'internal_error', suberror: 1, data: [] }), { kind: 'error', reason: expect.stringMatching(/internal error/) }],
  ] as const)('%s', async (_what, exit, expected) => {
    const { m, hv } = machine(scripted([exit]));
    const systemEvents: unknown[] = [];
    m.on('system', (e) => systemEvents.push(e));
    await m.start();
    expect(await m.done).toMatchObject({ ...expected, reboots: 0 });
    expect(hv.vms).toHaveLength(1);
    expect(hv.vms[0]!.closed).toBe(true);
    if (expected.kind !== 'error') expect(systemEvents).toHaveLength(1);
  });

  it('a backend failure in run() settles done with kind error, never a rejection', async () => {
    const { m } = machine(scripted([() => { throw new Error('KVM_RUN: Input/output error'); }]));
    await m.start();
    const end = await m.done;
    expect(end.kind).toBe('error');
    expect(end.reason).toMatch(/Input\/output error/);
  });

  it('timeout: a guest that never ends is kicked out after timeoutMs', async () => {
    const { m } = machine((v) => v.blockUntilStopped(), { timeoutMs: 40 });
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'timeout' });
  });

  it('stop(): every vCPU (all 3 harts) is kicked and done says the host stopped it', async () => {
    const { m, hv } = machine((v) => v.blockUntilStopped(), { vcpus: 3 });
    await m.start();
    expect(hv.vms[0]!.vcpus.map((v) => v.id)).toEqual([0, 1, 2]);
    m.stop();
    expect(await m.done).toMatchObject({ kind: 'shutdown', stoppedByHost: true });
    expect(hv.vms[0]!.vcpus.every((v) => v.state === 'closed')).toBe(true);
  });
});

describe('Machine: reboot policy', () => {
  it("'restart' (default) boots a fresh VM with the same images; the next shutdown ends it", async () => {
    // Each boot's hart 0 sees the image at RAM + 2 MiB and its pc there.
    const seen: [Uint8Array, bigint][] = [];
    const look = (v: FakeVcpu, vm: FakeVm): void => { seen.push([vm.regions[0]!.readBytes(0x8020_0000n, FLAT.length), v.regs.get(regId('core.pc'))!]); };
    const { m, hv } = machine(scripted([
      (v, vm) => { look(v, vm); vm.regions[0]!.fill(0x8020_0000n, FLAT.length, 0); return srstExit('reset', 0n); },
      (v, vm) => { look(v, vm); return srstExit('shutdown', 0n); },
    ]));
    const restarts: number[] = [];
    m.on('restart', (n) => restarts.push(n));
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'shutdown', reboots: 1 });
    expect(restarts).toEqual([1]);
    expect(hv.vms).toHaveLength(2);
    expect(hv.vms[0]).not.toBe(hv.vms[1]);
    expect(seen).toEqual([[FLAT, 0x8020_0000n], [FLAT, 0x8020_0000n]]);
  });

  it('the restart limit ends the machine with kind reboot', async () => {
    const { m, hv } = machine(() => srstExit('reset', 0x1234n), { reboot: { maxReboots: 2 } });
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'reboot', reboots: 2, srstReason: 0x1234n });
    expect(hv.vms).toHaveLength(3);
  });

  it("'exit' ends at the first reboot request, with its SRST reason", async () => {
    const { m, hv } = machine(() => srstExit('reset', 1n), { reboot: { policy: 'exit' } });
    await m.start();
    expect(await m.done).toMatchObject({ kind: 'reboot', reboots: 0, srstReason: 1n });
    expect(hv.vms).toHaveLength(1);
  });
});

describe('Machine: configuration', () => {
  it('in-kernel SBI extensions are set on every vCPU before the first run; DBCN defaults on', async () => {
    const seen: bigint[][] = [];
    const { m } = machine((v) => {
      seen.push([v.regs.get(regId('sbi_ext.DBCN'))!, v.regs.get(regId('sbi_ext.PMU'))!]);
      return v.id === 0 ? srstExit('shutdown', 0n) : v.blockUntilStopped();
    }, { vcpus: 2, inKernelSbi: { PMU: false } });
    // The fake host knows sbi_ext.PMU only once it is given one.
    const hv = (m.config.backend as FakeHypervisor);
    const createVm = hv.createVm.bind(hv);
    hv.createVm = () => {
      const vm = createVm();
      const createVcpu = vm.createVcpu.bind(vm);
      vm.createVcpu = (id) => { const v = createVcpu(id); v.regs.set(regId('sbi_ext.PMU'), 1n); return v; };
      return vm;
    };
    await m.start();
    await m.done;
    expect(seen).toContainEqual([1n, 0n]);
    expect(seen.length).toBeGreaterThanOrEqual(1);
  });

  it('an explicitly requested in-kernel extension the host lacks fails start()', async () => {
    const { m } = machine(() => srstExit('shutdown', 0n), { inKernelSbi: { STA: true } });
    await expect(m.start()).rejects.toThrow(/cannot enable in-kernel SBI extension STA/);
    expect((await m.done).kind).toBe('error');
  });

  it.each([
    [{ memorySize: 1000 }, /multiple of 4 KiB/],
    [{ memorySize: 4096 }, /minimum/],
    [{ vcpus: 0 }, /vcpus 0/],
    [{ kernel: new Uint8Array(0) }, /kernel is empty/],
    [{ reboot: { policy: 'again' as 'exit' } }, /reboot.policy/],
    [{ inKernelSbi: { NOPE: true } as never }, /unknown extension 'NOPE'/],
    [{ console: 'vga' as 'uart' }, /console must be/],
  ])('rejects %j in the constructor', (extra, message) => {
    expect(() => machine(() => srstExit('shutdown', 0n), extra as Partial<MachineConfig>)).toThrow(message);
  });

  it('bad inputs fail start() naming the problem, before any VM exists and without writing the disk', async () => {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(4096, 0x5a));
    const before = statSync(disk).mtimeMs;
    const cases: [Partial<MachineConfig>, RegExp][] = [
      [{ initrd: new Uint8Array(17 << 20), disks: [{ path: disk }] }, /initrd: .* do not fit in 16777216 bytes of RAM/],
      [{ initrd: new Uint8Array(15 << 20), disks: [{ path: disk }] }, /initrd: no room for the .*-byte initrd/],
      [{ kernel: Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1), disks: [{ path: disk }] }, /kernel: .*ELF/],
      [{ disks: [{ path: join(dir, 'missing.img') }] }, /disk .*missing\.img: no such file/],
      [{ disks: [{ path: dir }] }, /disk .*: (is a directory|not a regular file)/],
    ];
    for (const [extra, message] of cases) {
      const { m, hv } = machine(() => srstExit('shutdown', 0n), extra);
      const err = await m.start().then(() => undefined, (e: unknown) => e);
      expect(err, String(message)).toBeInstanceOf(MachineConfigError);
      expect((err as Error).message).toMatch(message);
      expect(hv.vms).toHaveLength(0);
    }
    expect(statSync(disk).mtimeMs).toBe(before);
    expect(readFileSync(disk).every((b) => b === 0x5a)).toBe(true);
  });
});

describe('Machine: exits, console and statistics', () => {
  it("every exit reaches 'exit' listeners as a JSON-safe record and is counted by reason", async () => {
    const { m } = machine(scripted([
      (v) => sbiExit(SBI_EXT_DBCN, 0, 4n, v.regs.get(regId('core.pc'))!, 0n),
      () => ({ reason: 'mmio', address: 0x1000_0005n, length: 1, isWrite: false, data: new Uint8Array(1) }),
      () => srstExit('shutdown', 0n),
    ]));
    const records: ExitTraceRecord[] = [];
    let consoleText = '';
    m.on('exit', (r) => records.push(r));
    m.on('console', (b) => { consoleText += Buffer.from(b).toString(); });
    await m.start();
    await m.done;
    expect(consoleText).toBe('flat');
    expect(records.map((r) => r.reason)).toEqual(['sbi', 'mmio', 'system_event']);
    expect(records[0]).toMatchObject({ hart: 0, eid: '0x4442434e', fid: '0x0', ret: ['0x0', '0x4'] });
    // The UART's LSR (offset 5) reads THRE | TEMT = 0x60.
    expect(records[1]).toMatchObject({ address: '0x10000005', length: 1, write: false, value: '0x60' });
    expect(records[2]).toMatchObject({ type: 'shutdown', stop: 'shutdown' });
    for (const r of records) expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(Object.fromEntries(m.statistics.byReason)).toEqual({ sbi: 1, mmio: 1, system_event: 1 });
    expect(m.statistics.format()).toMatch(/^ {2}sbi DBCN\s+1\s/m);
  });

  it('console input waits for the guest: an SBI console_read gets bytes sent before it', async () => {
    const buffer = 0x8030_0000n;
    let received = '';
    const { m } = machine(scripted([
      () => sbiExit(SBI_EXT_DBCN, 1, 8n, buffer, 0n),
      (_v, vm) => { received = Buffer.from(vm.regions[0]!.readBytes(buffer, 3)).toString(); return srstExit('shutdown', 0n); },
    ]));
    m.sendInput('hi!');
    await m.start();
    await m.done;
    const hv = m.config.backend as FakeHypervisor;
    expect(hv.vms[0]!.vcpus[0]!.completions[0]).toEqual({ kind: 'sbi', error: 0n, value: 3n });
    expect(received).toBe('hi!');
  });
});
