// The run loop and the bare-metal runner against a scripted fake backend (test/e2e/support).
import { describe, expect, it } from 'vitest';
import { SBI_EXT_DBCN } from '../../lib/abi/sbi.js';
import { REG_A0, REG_A1, REG_MODE, REG_PC, REG_SBI_EXT_DBCN } from '../../lib/abi/regs.js';
import { GuestAddressSpace, SbiRegistry, createDbcnExtension } from '../../lib/sbi/index.js';
import { MmioBus } from '../../lib/vmm/bus.js';
import { newExitCounters, type MachineState } from '../../lib/vmm/dispatch.js';
import { runVcpus, runVm } from '../../lib/vmm/run-loop.js';
import { runBareMetal } from '../../lib/vmm/bare-metal.js';
import { findNode, parseFdt, propCells, propStrings, propU32, propU64 } from '../../lib/boot/fdt.js';
import { KernelImageError } from '../../lib/boot/elf.js';
import { FakeHypervisor, FakeVm, type ExitScript, sbiExit, srstExit } from '../e2e/support/fake-backend.js';

function stateFor(vm: FakeVm, out: number[] = []): MachineState {
  return {
    hartId: 0,
    sbi: new SbiRegistry().register(createDbcnExtension({ output: { write: (b) => { out.push(...b); } } })),
    sbiContext: { memory: new GuestAddressSpace(() => vm.memoryRegions()) },
    bus: new MmioBus(),
    counters: newExitCounters(),
  };
}

describe('runVcpus', () => {
  it('applies each completion before the next run and stops on SRST', async () => {
    const exits = [sbiExit(0x0800_0000, 0), { reason: 'csr', csrNum: 0x15, newValue: 0n, writeMask: 0n } as const, srstExit('shutdown', 0n)];
    const vm = new FakeVm(() => exits.shift()!);
    const vcpu = vm.createVcpu(0);
    const r = await runVcpus([{ vcpu, state: stateFor(vm) }]);
    expect(r).toEqual({ kind: 'shutdown', reason: 0n });
    expect(vcpu.completions).toEqual([
      { kind: 'sbi', error: 0xffff_ffff_ffff_fffen, value: 0n },
      { kind: 'csr', value: 0n },
    ]);
    expect(vcpu.runs).toBe(3);
  });

  it('reports a timeout when the guest never stops, and leaves no vCPU running', async () => {
    const vm = new FakeVm(async () => { await new Promise((r) => setTimeout(r, 2)); return sbiExit(0x0800_0000, 0); });
    const vcpu = vm.createVcpu(0);
    const t0 = Date.now();
    const r = await runVcpus([{ vcpu, state: stateFor(vm) }], { timeoutMs: 50 });
    expect(r).toEqual({ kind: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(vcpu.state).toBe('idle');
  });

  it('a vCPU blocked in the kernel is kicked out by the timeout', async () => {
    const vm = new FakeVm((vcpu) => vcpu.blockUntilStopped());
    const r = await runVcpus([{ vcpu: vm.createVcpu(0), state: stateFor(vm) }], { timeoutMs: 20 });
    expect(r).toEqual({ kind: 'timeout' });
  });

  it('the first vCPU to stop ends the run and the others are kicked', async () => {
    const vm = new FakeVm((vcpu) => (vcpu.id === 1 ? Promise.resolve(srstExit('reset', 0n)) : vcpu.blockUntilStopped()));
    const v0 = vm.createVcpu(0);
    const v1 = vm.createVcpu(1);
    const r = await runVcpus([{ vcpu: v0, state: stateFor(vm) }, { vcpu: v1, state: stateFor(vm) }], { timeoutMs: 5000 });
    expect(r).toEqual({ kind: 'reset', reason: 0n });
  });

  it('an abort signal stops the run as interrupted', async () => {
    const vm = new FakeVm((vcpu) => vcpu.blockUntilStopped());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    expect(await runVcpus([{ vcpu: vm.createVcpu(0), state: stateFor(vm) }], { signal: ac.signal })).toEqual({ kind: 'interrupted' });
  });

  it('a backend error (run() rejecting) becomes an error result naming the vCPU', async () => {
    const vm = new FakeVm(() => { throw new Error('KVM_RUN: Input/output error'); });
    expect(await runVcpus([{ vcpu: vm.createVcpu(0), state: stateFor(vm) }])).toEqual({ kind: 'error', message: 'vCPU 0: KVM_RUN: Input/output error' });
  });
});

describe('runBareMetal', () => {
  /** A "guest" that prints its own first bytes (the image) with DBCN, then shuts down. */
  const printImageThenShutdown = (len: number, reason: bigint): ExitScript => {
    let step = 0;
    return (vcpu) => {
      step++;
      if (step === 1) return sbiExit(SBI_EXT_DBCN, 0, BigInt(len), vcpu.getReg(REG_PC), 0n);
      return srstExit('shutdown', reason);
    };
  };

  it('loads a flat image at RAM + 2 MiB, enables DBCN, boots with a0 = 0 and a1 = the FDT', async () => {
    const message = new TextEncoder().encode('hello from the image\n');
    const hv = new FakeHypervisor(printImageThenShutdown(message.length, 0n));
    const out: number[] = [];
    let fdtAddr = 0n;
    const res = await runBareMetal({
      hypervisor: hv, image: message, memorySize: 16 << 20, bootargs: 'console=hvc0', output: { write: (b) => { out.push(...b); } },
      onReady: ({ vcpu, fdtAddress, vm }) => {
        fdtAddr = fdtAddress;
        expect(vcpu.getReg(REG_PC)).toBe(0x8020_0000n);
        expect(vcpu.getReg(REG_A0)).toBe(0n);
        expect(vcpu.getReg(REG_A1)).toBe(fdtAddress);
        expect(vcpu.getReg(REG_MODE)).toBe(1n);
        expect(vcpu.getReg(REG_SBI_EXT_DBCN)).toBe(1n);
        const ram = vm.memoryRegions()[0]!;
        const header = ram.readBytes(fdtAddress, 8);
        const total = new DataView(header.buffer).getUint32(4);
        const { root } = parseFdt(ram.readBytes(fdtAddress, total));
        expect(propStrings(findNode(root, '/chosen')!.props.get('bootargs')!)).toEqual(['console=hvc0']);
        expect(propCells(findNode(root, '/memory@80000000')!.props.get('reg')!)).toEqual([0, 0x8000_0000, 0, 16 << 20]);
        expect(propU32(findNode(root, '/cpus')!.props.get('timebase-frequency')!)).toBe(10_000_000);
        expect(propStrings(findNode(root, '/cpus/cpu@0')!.props.get('riscv,isa')!)).toEqual(['rv64imafdc_zicsr_zifencei_zbb_sstc']);
        expect(propStrings(findNode(root, '/cpus/cpu@0')!.props.get('mmu-type')!)).toEqual(['riscv,sv48']);
      },
    });
    expect(res.result).toEqual({ kind: 'shutdown', reason: 0n });
    expect(Buffer.from(out).toString()).toBe('hello from the image\n');
    expect(fdtAddr % 0x20_0000n).toBe(0n);
    expect(fdtAddr).toBeGreaterThan(0x8020_0000n);
    expect(hv.vms[0]!.closed).toBe(true);
  });

  it('places an initrd below the FDT and announces it in /chosen', async () => {
    const hv = new FakeHypervisor(() => srstExit('shutdown', 0n));
    const initrd = new TextEncoder().encode('070701 pretend cpio');
    let checked = false;
    await runBareMetal({
      hypervisor: hv, image: Uint8Array.of(1, 2, 3, 4), initrd, memorySize: 32 << 20, output: { write() {} },
      onReady: ({ vm, fdt, initrd: placed }) => {
        const { root } = parseFdt(fdt);
        const chosen = findNode(root, '/chosen')!;
        const start = propU64(chosen.props.get('linux,initrd-start')!);
        const end = propU64(chosen.props.get('linux,initrd-end')!);
        expect({ start, end }).toEqual(placed);
        expect(end - start).toBe(BigInt(initrd.length));
        expect(vm.memoryRegions()[0]!.readBytes(start, initrd.length)).toEqual(initrd);
        checked = true;
      },
    });
    expect(checked).toBe(true);
  });

  it('refuses an image that does not fit, closing the VM', async () => {
    const hv = new FakeHypervisor(() => srstExit('shutdown', 0n));
    await expect(runBareMetal({ hypervisor: hv, image: new Uint8Array(16 << 20), memorySize: 16 << 20, output: { write() {} } }))
      .rejects.toBeInstanceOf(KernelImageError);
    expect(hv.vms[0]!.closed).toBe(true);
  });

  it('warns, but runs, when DBCN cannot be enabled (6.1-6.6 hosts)', async () => {
    const hv = new FakeHypervisor(() => srstExit('shutdown', 1n));
    const warnings: string[] = [];
    const orig = hv.createVm.bind(hv);
    hv.createVm = () => {
      const vm = orig();
      const create = vm.createVcpu.bind(vm);
      vm.createVcpu = (id: number) => { const v = create(id); v.regs.delete(REG_SBI_EXT_DBCN); return v; };
      return vm;
    };
    const res = await runBareMetal({ hypervisor: hv, image: Uint8Array.of(1, 2, 3, 4), memorySize: 16 << 20, output: { write() {} }, warn: (m) => warnings.push(m) });
    expect(res.result).toEqual({ kind: 'shutdown', reason: 1n });
    expect(warnings[0]).toMatch(/cannot enable SBI DBCN/);
  });
});

describe('runVm', () => {
  it('runs every vCPU of the VM with its own hart id and counters', async () => {
    const seen: number[] = [];
    const vm = new FakeVm((vcpu) => {
      if (vcpu.id === 1 && vcpu.runs === 2) return srstExit('shutdown', 0n);
      if (vcpu.runs === 1) return sbiExit(0x0800_0001, 0);
      return vcpu.blockUntilStopped();
    });
    vm.createVcpu(0);
    vm.createVcpu(1);
    const sbi = new SbiRegistry().register({ name: 'who', eid: 0x0800_0001, handle: (call) => { seen.push(call.hartId); return { error: 0, value: call.hartId }; } });
    const { result, states } = await runVm(vm, { sbi, bus: new MmioBus() }, { timeoutMs: 5000 });
    expect(result).toEqual({ kind: 'shutdown', reason: 0n });
    expect(seen.sort()).toEqual([0, 1]);
    expect(states.map((s) => s.hartId)).toEqual([0, 1]);
    expect(vm.vcpus[1]!.completions).toEqual([{ kind: 'sbi', error: 0n, value: 1n }]);
  });
});

describe('runVcpus fairness', () => {
  it('a backend that answers through microtasks only still lets the timeout fire', async () => {
    // Every run() resolves at once (a guest making SBI calls in a tight loop).
    const vm = new FakeVm(() => sbiExit(0x0800_0000, 0));
    const vcpu = vm.createVcpu(0);
    const r = await runVcpus([{ vcpu, state: stateFor(vm) }], { timeoutMs: 30 });
    expect(r).toEqual({ kind: 'timeout' });
    expect(vcpu.runs).toBeGreaterThan(10);
  });
});
