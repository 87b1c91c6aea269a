// The exit dispatcher fed synthetic exits, as either backend would produce them.
import { describe, expect, it } from 'vitest';
import type { VcpuExit } from '../../lib/backend/types.js';
import { ArrayBufferGuestMemory } from '../../lib/backend/guest-memory.js';
import { SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_EXT_DBCN } from '../../lib/abi/sbi.js';
import { GuestAddressSpace, SbiRegistry, createDbcnExtension, createUserExtension } from '../../lib/sbi/index.js';
import { MmioBus } from '../../lib/vmm/bus.js';
import { dispatchExit, newExitCounters, type ExitOutcome, type MachineState } from '../../lib/vmm/dispatch.js';
import { sbiExit, srstExit } from '../e2e/support/fake-backend.js';

const u64 = (v: number) => BigInt.asUintN(64, BigInt(v));

function machine() {
  const ram = new ArrayBufferGuestMemory(0, 0x8000_0000n, 0x10000, false, new ArrayBuffer(0x10000));
  const out: number[] = [];
  const sbi = new SbiRegistry().register(createDbcnExtension({ output: { write: (b) => { out.push(...b); } } }));
  const bus = new MmioBus();
  const regs = new Map<number, bigint>();
  bus.map('scratch', 0x1000_0000n, 0x100, {
    read: (off) => regs.get(off) ?? 0xffn,
    write: (off, _size, v) => { regs.set(off, v); },
  });
  const state: MachineState = { hartId: 0, sbi, sbiContext: { memory: new GuestAddressSpace([ram]) }, bus, counters: newExitCounters() };
  return { state, ram, out, regs };
}

const sync = (o: ExitOutcome | Promise<ExitOutcome>): ExitOutcome => {
  if (o instanceof Promise) throw new Error('expected a synchronous outcome');
  return o;
};

describe('dispatchExit', () => {
  it('answers a DBCN write and resumes with the sbiret as u64', () => {
    const m = machine();
    m.ram.writeBytes(0x8000_0100n, new TextEncoder().encode('hi'));
    expect(sync(dispatchExit(sbiExit(SBI_EXT_DBCN, 0, 2n, 0x8000_0100n, 0n), m.state))).toEqual({
      action: 'resume', completion: { kind: 'sbi', error: 0n, value: 2n },
    });
    expect(Buffer.from(m.out).toString()).toBe('hi');
    expect(sync(dispatchExit(sbiExit(SBI_EXT_DBCN, 0, 2n, 0x10n, 0n), m.state))).toEqual({
      action: 'resume', completion: { kind: 'sbi', error: u64(SBI_ERR_INVALID_PARAM), value: 0n },
    });
  });

  it('answers an unregistered experimental EID with NOT_SUPPORTED', () => {
    const m = machine();
    expect(sync(dispatchExit(sbiExit(0x0800_0000, 5), m.state))).toMatchObject({ completion: { error: u64(SBI_ERR_NOT_SUPPORTED) } });
  });

  it('waits for an async SBI handler', async () => {
    const m = machine();
    m.state.sbi.register(createUserExtension({ name: 'slow', eid: 0x0900_0000, functions: { 0: async () => ({ error: 0, value: 7 }) } }));
    const o = dispatchExit(sbiExit(0x0900_0000, 0), m.state);
    expect(o).toBeInstanceOf(Promise);
    expect(await o).toEqual({ action: 'resume', completion: { kind: 'sbi', error: 0n, value: 7n } });
  });

  it.each([
    [srstExit('shutdown', 0n), { kind: 'shutdown', reason: 0n }],
    [srstExit('shutdown', 1n), { kind: 'shutdown', reason: 1n }],
    [srstExit('reset', 0n), { kind: 'reset', reason: 0n }],
    [{ reason: 'system_event', type: 'crash', typeCode: 3, data: [] } as VcpuExit, { kind: 'crash', data: [] }],
  ])('stops on SYSTEM_EVENT %#', (exit, stop) => {
    expect(sync(dispatchExit(exit, machine().state))).toEqual({ action: 'stop', stop });
  });

  it('routes MMIO stores and loads through the bus, little-endian', () => {
    const m = machine();
    const store: VcpuExit = { reason: 'mmio', address: 0x1000_0008n, length: 4, isWrite: true, data: Uint8Array.of(0x78, 0x56, 0x34, 0x12) };
    expect(sync(dispatchExit(store, m.state))).toEqual({ action: 'resume', completion: { kind: 'mmio_store' } });
    expect(m.regs.get(8)).toBe(0x1234_5678n);
    const load: VcpuExit = { reason: 'mmio', address: 0x1000_0008n, length: 2, isWrite: false, data: new Uint8Array(2) };
    expect(sync(dispatchExit(load, m.state))).toEqual({ action: 'resume', completion: { kind: 'mmio_load', value: 0x5678n } });
    const unmapped: VcpuExit = { reason: 'mmio', address: 0x4000_0000n, length: 8, isWrite: false, data: new Uint8Array(8) };
    expect(sync(dispatchExit(unmapped, m.state))).toEqual({ action: 'resume', completion: { kind: 'mmio_load', value: 0n } });
    expect(m.state.bus.stats.unmappedReads).toBe(1);
    expect(m.state.counters).toMatchObject({ exits: 3, mmio: 3 });
  });

  it('answers a CSR exit with 0 (no user-space CSRs), counted', () => {
    const m = machine();
    expect(sync(dispatchExit({ reason: 'csr', csrNum: 0x15, newValue: 0n, writeMask: 0n }, m.state))).toEqual({
      action: 'resume', completion: { kind: 'csr', value: 0n },
    });
    expect(m.state.counters.csr).toBe(1);
  });

  it.each([
    [{ reason: 'interrupted' } as VcpuExit, /^$/],
    [{ reason: 'internal_error', suberror: 3, data: [] } as VcpuExit, /suberror 3/],
    [{ reason: 'fail_entry', hardwareEntryFailureReason: 0x600n, cpu: 1 } as VcpuExit, /0x600/],
    [{ reason: 'debug' } as VcpuExit, /debug/],
    [{ reason: 'unsupported', exitReason: 99 } as VcpuExit, /99/],
    [{ reason: 'system_event', type: 'suspend', typeCode: 5, data: [] } as VcpuExit, /suspend/],
  ])('stops on a non-resumable exit (case %#)', (exit, message) => {
    const o = sync(dispatchExit(exit, machine().state));
    expect(o.action).toBe('stop');
    if (o.action === 'stop') {
      if (exit.reason === 'interrupted') expect(o.stop).toEqual({ kind: 'interrupted' });
      else expect(o.stop).toMatchObject({ kind: 'error', message: expect.stringMatching(message) });
    }
  });
});
