// User-space SBI policy (lib/sbi): registry, probing, DBCN with hostile pointers, legacy console,
// user experimental/vendor extensions.
import { describe, expect, it } from 'vitest';
import { ArrayBufferGuestMemory } from '../../lib/backend/guest-memory.js';
import {
  SBI_ERR_FAILED, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_EXT_BASE, SBI_EXT_DBCN,
} from '../../lib/abi/sbi.js';
import {
  DBCN_MAX_TRANSFER, GuestAddressSpace, SbiRegistry, createDbcnExtension, createLegacyConsoleExtensions,
  createUserExtension, type SbiCall, type SbiResult,
} from '../../lib/sbi/index.js';

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 64 * 1024;

function setup(opts: { input?: Uint8Array; romAt?: bigint } = {}) {
  const ram = new ArrayBufferGuestMemory(0, RAM_BASE, RAM_SIZE, false, new ArrayBuffer(RAM_SIZE));
  const regions = [ram];
  if (opts.romAt !== undefined) regions.push(new ArrayBufferGuestMemory(1, opts.romAt, 4096, true, new ArrayBuffer(4096)));
  const memory = new GuestAddressSpace(regions);
  const out: number[] = [];
  let pending = opts.input ? Array.from(opts.input) : [];
  const registry = new SbiRegistry();
  const console = {
    output: { write: (b: Uint8Array) => { out.push(...b); } },
    input: { read: (max: number) => { const r = Uint8Array.from(pending.slice(0, max)); pending = pending.slice(max); return r; } },
  };
  registry.register(createDbcnExtension(console));
  for (const e of createLegacyConsoleExtensions(console)) registry.register(e);
  const call = (extensionId: number, functionId: number | bigint, ...args: bigint[]): SbiResult => {
    const c: SbiCall = { extensionId, functionId: BigInt(functionId), args, hartId: 0 };
    const r = registry.handle(c, { memory });
    if (r instanceof Promise) throw new Error('unexpected async result');
    return r;
  };
  return { ram, memory, registry, out, call, text: () => Buffer.from(out).toString() };
}

describe('SBI registry', () => {
  it('answers an unknown EID and an unknown FID with SBI_ERR_NOT_SUPPORTED', () => {
    const { call, registry } = setup();
    expect(call(0x0800_0042, 0)).toMatchObject({ error: SBI_ERR_NOT_SUPPORTED });
    expect(call(SBI_EXT_DBCN, 7)).toMatchObject({ error: SBI_ERR_NOT_SUPPORTED });
    expect(call(SBI_EXT_BASE, 0)).toMatchObject({ error: SBI_ERR_NOT_SUPPORTED }); // only probe is forwarded
    expect(registry.unsupportedCalls).toBe(2);
  });

  it('answers BASE probe_extension from the registry', () => {
    const { call, registry } = setup();
    registry.register(createUserExtension({ name: 'mine', eid: 0x0900_0001, functions: {}, probe: () => 42 }));
    expect(call(SBI_EXT_BASE, 3, BigInt(SBI_EXT_DBCN))).toEqual({ error: 0, value: 1 });
    expect(call(SBI_EXT_BASE, 3, 0x0900_0001n)).toEqual({ error: 0, value: 42 });
    expect(call(SBI_EXT_BASE, 3, 0x0800_0000n)).toEqual({ error: 0, value: 0 });
    expect(call(SBI_EXT_BASE, 3, 1n << 40n)).toEqual({ error: 0, value: 0 }); // not a 32-bit EID
  });

  it('refuses overlapping, empty and BASE registrations', () => {
    const r = new SbiRegistry();
    r.register({ name: 'a', eid: [0x0800_0000, 0x0800_00ff], handle: () => ({ error: 0, value: 0 }) });
    expect(() => r.register({ name: 'b', eid: 0x0800_0010, handle: () => ({ error: 0, value: 0 }) })).toThrow(/overlap/);
    expect(() => r.register({ name: 'c', eid: [5, 4], handle: () => ({ error: 0, value: 0 }) })).toThrow(/empty/);
    expect(() => r.register({ name: 'd', eid: SBI_EXT_BASE, handle: () => ({ error: 0, value: 0 }) })).toThrow(/BASE/);
    expect(r.unregister('a')).toBe(true);
    expect(r.unregister('a')).toBe(false);
  });

  it('runs sync and async user handlers, and turns a throwing one into SBI_ERR_FAILED', async () => {
    const { registry, memory } = setup();
    registry.register(createUserExtension({
      name: 'calc', eid: 0x0800_0100,
      functions: {
        0: (args) => ({ error: 0, value: args[0]! + args[1]! }),
        1: async (args) => { await new Promise((r) => setTimeout(r, 1)); return { error: 0, value: args[0]! * 2n }; },
        2: () => { throw new Error('boom'); },
      },
    }));
    const c = (fid: number, ...args: bigint[]) => registry.handle({ extensionId: 0x0800_0100, functionId: BigInt(fid), args, hartId: 0 }, { memory });
    expect(c(0, 2n, 3n)).toEqual({ error: 0, value: 5n });
    const pending = c(1, 21n);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual({ error: 0, value: 42n });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    expect(c(2)).toEqual({ error: SBI_ERR_FAILED, value: 0 });
    await new Promise((r) => setTimeout(r, 5));
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.includes('boom'))).toBe(true);
    expect(c(9)).toMatchObject({ error: SBI_ERR_NOT_SUPPORTED });
  });

  it('only lets user extensions live in the experimental and vendor ranges', () => {
    expect(() => createUserExtension({ name: 'x', eid: SBI_EXT_DBCN, functions: {} })).toThrow(/experimental/);
    expect(() => createUserExtension({ name: 'x', eid: 0x0a00_0000, functions: {} })).toThrow(/vendor/);
  });
});

describe('DBCN (SBI v2.0 ch. 12)', () => {
  it('console_write copies the guest buffer to the output and returns the count', () => {
    const s = setup();
    s.ram.writeBytes(RAM_BASE + 0x100n, new TextEncoder().encode('hello'));
    expect(s.call(SBI_EXT_DBCN, 0, 5n, RAM_BASE + 0x100n, 0n)).toEqual({ error: 0, value: 5 });
    expect(s.text()).toBe('hello');
  });

  it('a zero-length write or read returns {0, 0} even with a bad pointer', () => {
    const s = setup();
    expect(s.call(SBI_EXT_DBCN, 0, 0n, 0xdead_beefn, 7n)).toEqual({ error: 0, value: 0 });
    expect(s.call(SBI_EXT_DBCN, 1, 0n, 0n, 0n)).toEqual({ error: 0, value: 0 });
    expect(s.out).toEqual([]);
  });

  it.each([
    ['below RAM', 0x1000n, 4n, 0n],
    ['past the end of RAM', RAM_BASE + BigInt(RAM_SIZE) - 2n, 4n, 0n],
    ['wrapping past 2^64', 0xffff_ffff_ffff_fffen, 4n, 0n],
    ['a non-zero base_hi on rv64', RAM_BASE, 4n, 1n],
    ['a u64-max length', RAM_BASE, 0xffff_ffff_ffff_ffffn, 0n],
  ])('console_write with a buffer %s gets SBI_ERR_INVALID_PARAM and writes nothing', (_w, lo, n, hi) => {
    const s = setup();
    expect(s.call(SBI_EXT_DBCN, 0, n, lo, hi)).toEqual({ error: SBI_ERR_INVALID_PARAM, value: 0 });
    expect(s.call(SBI_EXT_DBCN, 1, n, lo, hi)).toEqual({ error: SBI_ERR_INVALID_PARAM, value: 0 });
    expect(s.out).toEqual([]);
  });

  it('a buffer straddling two regions is refused (one region must hold it all)', () => {
    const s = setup({ romAt: RAM_BASE + BigInt(RAM_SIZE) });
    expect(s.call(SBI_EXT_DBCN, 0, 8n, RAM_BASE + BigInt(RAM_SIZE) - 4n, 0n)).toMatchObject({ error: SBI_ERR_INVALID_PARAM });
  });

  it('writes at most DBCN_MAX_TRANSFER bytes per call (a partial write the spec allows)', () => {
    const ram = new ArrayBufferGuestMemory(0, RAM_BASE, 256 * 1024, false, new ArrayBuffer(256 * 1024));
    const out: Uint8Array[] = [];
    const r = new SbiRegistry().register(createDbcnExtension({ output: { write: (b) => { out.push(b); } } }));
    const res = r.handle({ extensionId: SBI_EXT_DBCN, functionId: 0n, args: [200_000n, RAM_BASE, 0n], hartId: 0 }, { memory: new GuestAddressSpace([ram]) });
    expect(res).toEqual({ error: 0, value: DBCN_MAX_TRANSFER });
    expect(out[0]!.length).toBe(DBCN_MAX_TRANSFER);
  });

  it('console_read fills the guest buffer with what is waiting, and refuses read-only memory', () => {
    const s = setup({ input: new TextEncoder().encode('abc'), romAt: 0x2000_0000n });
    expect(s.call(SBI_EXT_DBCN, 1, 2n, RAM_BASE + 0x10n, 0n)).toEqual({ error: 0, value: 2 });
    expect(Array.from(s.ram.readBytes(RAM_BASE + 0x10n, 2))).toEqual([0x61, 0x62]);
    expect(s.call(SBI_EXT_DBCN, 1, 1n, 0x2000_0000n, 0n)).toMatchObject({ error: SBI_ERR_INVALID_PARAM });
    expect(s.call(SBI_EXT_DBCN, 1, 8n, RAM_BASE + 0x10n, 0n)).toEqual({ error: 0, value: 1 });
    expect(s.call(SBI_EXT_DBCN, 1, 8n, RAM_BASE + 0x10n, 0n)).toEqual({ error: 0, value: 0 }); // nothing left
  });

  it('console_write_byte sends the low 8 bits', () => {
    const s = setup();
    expect(s.call(SBI_EXT_DBCN, 2, 0x1234_5641n)).toEqual({ error: 0, value: 0 });
    expect(s.text()).toBe('A');
  });

  it('an output sink that throws gives SBI_ERR_FAILED', () => {
    const ram = new ArrayBufferGuestMemory(0, RAM_BASE, 4096, false, new ArrayBuffer(4096));
    const r = new SbiRegistry().register(createDbcnExtension({ output: { write: () => { throw new Error('EPIPE'); } } }));
    expect(r.handle({ extensionId: SBI_EXT_DBCN, functionId: 2n, args: [65n], hartId: 0 }, { memory: new GuestAddressSpace([ram]) })).toMatchObject({ error: SBI_ERR_FAILED });
  });

  it('sees regions that close after it was created', () => {
    const s = setup();
    s.ram.invalidate();
    expect(s.call(SBI_EXT_DBCN, 0, 1n, RAM_BASE, 0n)).toMatchObject({ error: SBI_ERR_INVALID_PARAM });
  });
});

describe('legacy v0.1 console (SBI v2.0 ch. 5)', () => {
  it('putchar writes the byte; getchar returns a byte or -1', () => {
    const s = setup({ input: Uint8Array.of(0x7a) });
    expect(s.call(1, 0xffff, 0x4142n)).toEqual({ error: 0, value: 0 });
    expect(s.text()).toBe('B');
    expect(s.call(2, 0)).toEqual({ error: 0x7a, value: 0 });
    expect(s.call(2, 0)).toEqual({ error: -1, value: 0 });
  });
});

describe('SBI registry under hostile arguments', () => {
  it('random u64 arguments to every forwarded call never throw and only give spec error codes', () => {
    let seed = 0x9e3779b9;
    const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
    const edges = [0n, 1n, RAM_BASE, RAM_BASE + BigInt(RAM_SIZE) - 1n, RAM_BASE + BigInt(RAM_SIZE), 0xffff_ffff_ffff_ffffn, 1n << 63n, 0xffff_ffffn];
    const u64 = (): bigint => (rnd() % 3 === 0 ? edges[rnd() % edges.length]! : (BigInt(rnd()) << 32n) | BigInt(rnd()));
    const s = setup({ input: new Uint8Array(64).fill(0x41) });
    const eids = [SBI_EXT_DBCN, SBI_EXT_BASE, 1, 2, 0x0800_0000, 0x0900_0000];
    const allowed = new Set([0, SBI_ERR_FAILED, SBI_ERR_NOT_SUPPORTED, SBI_ERR_INVALID_PARAM]);
    for (let i = 0; i < 2000; i++) {
      const eid = eids[rnd() % eids.length]!;
      const r = s.call(eid, rnd() % 4 === 0 ? u64() : BigInt(rnd() % 4), u64(), u64(), u64());
      if (eid === 2) continue; // legacy getchar returns the character in a0
      expect(allowed.has(Number(r.error)), `call ${i}: EID 0x${eid.toString(16)} → ${r.error}`).toBe(true);
    }
  });
});
