// lib/host: what the VMM takes from the host process (random bytes, a monotonic clock, the CPU
// count) without loading Node modules it does not need (issue 5's memory goal).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostRandomFill } from '../../lib/host/entropy.js';
import { monotonicMs } from '../../lib/host/monotonic.js';
import { onlineCpus } from '../../lib/host/online-cpus.js';
import { canCollectGarbage, collectGarbage } from '../../lib/host/gc.js';
import { builtFile } from '../support/paths.js';

const REPO = join(__dirname, '..', '..');

describe('hostRandomFill', () => {
  it('fills every byte, differently each time', () => {
    const a = new Uint8Array(32).fill(0xa5);
    const b = new Uint8Array(32).fill(0xa5);
    hostRandomFill(a);
    hostRandomFill(b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    // 32 bytes all still 0xa5 by chance: 2^-256.
    expect(a.every((v) => v === 0xa5)).toBe(false);
  });
  it('fills large buffers completely (every byte value shows up in 256 KiB)', () => {
    const big = new Uint8Array(256 * 1024);
    hostRandomFill(big);
    const seen = new Set(big);
    expect(seen.size).toBe(256);
    // The last 4 KiB were written too (a short read would leave zeros: 4096 zero bytes by chance is
    // impossible in practice).
    expect(big.subarray(big.length - 4096).some((v) => v !== 0)).toBe(true);
  });
  it('keeps no descriptor open between calls', () => {
    const open = (): number => readdirSync('/proc/self/fd').length;
    hostRandomFill(new Uint8Array(8));
    const before = open();
    for (let i = 0; i < 100; i++) hostRandomFill(new Uint8Array(16));
    expect(open()).toBe(before);
  });
  it('accepts an empty buffer and views into larger buffers', () => {
    expect(() => hostRandomFill(new Uint8Array(0))).not.toThrow();
    const backing = new Uint8Array(64);
    hostRandomFill(backing.subarray(16, 48));
    expect(backing.subarray(0, 16).every((v) => v === 0)).toBe(true);
    expect(backing.subarray(48).every((v) => v === 0)).toBe(true);
    expect(backing.subarray(16, 48).some((v) => v !== 0)).toBe(true);
  });
});

describe('monotonicMs', () => {
  it('never goes back and follows elapsed time', () => {
    let last = monotonicMs();
    for (let i = 0; i < 1000; i++) {
      const t = monotonicMs();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
    const t0 = monotonicMs();
    const wallStart = Date.now();
    while (Date.now() - wallStart < 30) { /* busy wait */ }
    const elapsed = monotonicMs() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe('onlineCpus', () => {
  it('is what os.availableParallelism() says', () => {
    expect(onlineCpus()).toBe(availableParallelism());
  });
});

describe('collectGarbage', () => {
  it('does nothing without --expose-gc, and says so', () => {
    expect(collectGarbage()).toBe(canCollectGarbage);
  });
  it('runs a full GC in a node started with --expose-gc (the bin\'s flags): an unreachable object goes', () => {
    const dist = join(REPO, 'dist', 'lib');
    builtFile(join(dist, 'host', 'gc.js'));
    const script = `
      const { collectGarbage, canCollectGarbage } = await import(${JSON.stringify(`${dist}/host/gc.js`)});
      let ref = new WeakRef({ big: new Array(1000).fill(1) });
      await new Promise((r) => setTimeout(r, 0)); // WeakRef targets are kept until the job ends
      const did = collectGarbage();
      console.log(JSON.stringify({ can: canCollectGarbage, did, gone: ref.deref() === undefined }));`;
    const run = (flags: string[]) => {
      const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout.trim()) as { can: boolean; did: boolean; gone: boolean };
    };
    expect(run(['--expose-gc'])).toEqual({ can: true, did: true, gone: true });
    expect(run([])).toEqual({ can: false, did: false, gone: false });
  });
});

describe('Node modules the VMM leaves unloaded', () => {
  it('a process running the CLI and emulator modules never loads node:crypto, node:os or perf_hooks', () => {
    // Runs the built modules (npm run build; the CI builds before testing) in a bare node: the
    // test runner and the TS loader load node:crypto themselves.
    const dist = join(REPO, 'dist', 'lib');
    builtFile(join(dist, 'cli', 'cli.js'));
    const script = `
      const { pathToFileURL } = await import('node:url');
      const at = (p) => pathToFileURL(${JSON.stringify(dist)} + '/' + p).href;
      await import(at('cli/cli.js'));
      const { createEmulator } = await import(at('backend/emulator/index.js'));
      const { hostRandomFill } = await import(at('host/entropy.js'));
      const { monotonicMs } = await import(at('host/monotonic.js'));
      const hv = createEmulator();
      const vm = hv.createVm();
      hostRandomFill(new Uint8Array(64));
      monotonicMs();
      vm.close();
      hv.close();
      const loaded = process.moduleLoadList.filter((m) => /^NativeModule (crypto|os|perf_hooks|internal\\/perf\\/performance)$/.test(m));
      console.log(JSON.stringify(loaded));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual([]);
  });
});
