// examples/vendor-hypercall: the guest calls a vendor SBI extension answered in TypeScript; built
// with the cross binutils (skipped without them) and run on the emulator through the Machine.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/cli-process.js';
import { hasCrossBinutils } from '../e2e/guest-build.js';
import { HOST_SERVICE_EID, hostService } from '../../examples/vendor-hypercall/host-service.js';
import { GuestAddressSpace } from '../../lib/sbi/guest-memory.js';
import type { GuestMemory } from '../../lib/backend/types.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'vendor-hypercall');

describe.skipIf(!hasCrossBinutils)('examples/vendor-hypercall (needs riscv64-linux-gnu-as)', () => {
  it('the guest gets every answer right and shuts down cleanly', async () => {
    const b = spawnSync('bash', [join(EXAMPLE, 'build.sh')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const { runExample } = await import('../../examples/vendor-hypercall/run.js');
    let out = '';
    const end = await runExample({ backend: 'emulator', onConsole: (bytes) => { out += Buffer.from(bytes).toString(); } });
    const text = 'HELLO FROM THE GUEST, HOST SERVICE!\n';
    const prefix = createHash('sha256').update(text).digest('hex').slice(0, 16);
    expect(out).toBe(`${text}sha256 prefix: ${prefix}\nfailed checks: 0000000000000000\n`);
    expect(end).toMatchObject({ kind: 'shutdown', srstReason: 0n });
  });
});

describe('host service extension (no guest)', () => {
  // A one-page RAM window at 0x80000000 for the handlers' checked translation.
  const page = new Uint8Array(4096);
  const ram = {
    slot: 0, guestPhysAddr: 0x8000_0000n, size: page.length, readonly: false, closed: false,
    readBytes: (gpa: bigint, n: number) => page.slice(Number(gpa - 0x8000_0000n), Number(gpa - 0x8000_0000n) + n),
    writeBytes: (gpa: bigint, d: Uint8Array) => { page.set(d, Number(gpa - 0x8000_0000n)); },
  } as unknown as GuestMemory;
  const ctx = { memory: new GuestAddressSpace([ram]) };
  const ext = hostService();
  const call = (fid: number, args: bigint[]) => ext.handle({ extensionId: HOST_SERVICE_EID, functionId: BigInt(fid), args, hartId: 0 }, ctx);

  it('add wraps at 2^64; an unknown FID is NOT_SUPPORTED', async () => {
    expect(await call(0, [2n ** 64n - 1n, 2n])).toEqual({ error: 0, value: 1n });
    expect(await call(9, [])).toEqual({ error: -2, value: 0 });
  });

  it('upper_case rejects buffers outside RAM, straddling its end or too long, and touches nothing then', async () => {
    page.set(new TextEncoder().encode('abc'), 4093);
    expect(await call(1, [0x10n, 4n])).toEqual({ error: -3, value: 0 });
    expect(await call(1, [0x8000_0ffdn, 4n])).toEqual({ error: -3, value: 0 });
    expect(await call(1, [0x8000_0000n, 1n << 40n])).toEqual({ error: -3, value: 0 });
    expect(Buffer.from(page.subarray(4093)).toString()).toBe('abc');
    expect(await call(1, [0x8000_0ffdn, 3n])).toEqual({ error: 0, value: 3n });
    expect(Buffer.from(page.subarray(4093)).toString()).toBe('ABC');
  });
});
