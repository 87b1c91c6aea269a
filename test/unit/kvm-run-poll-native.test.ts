/**
 * run()'s two ways of delivering an exit (native/README.md "Life of a VM" 4): taken by run() itself
 * while it polls (runPollMicros), or through the thread-safe function once it gave up, on the real
 * addon against an x86_64 host's /dev/kvm (like kvm-native-smoke.test.ts; skipped where no native
 * build or /dev/kvm exists). Every exit must be delivered exactly once, whichever side takes it.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openKvm, type KvmHypervisor } from '../../lib/backend/kvm/index.js';
import { defaultHostProbe } from '../../lib/backend/kvm/loader.js';

const ADDON = join(import.meta.dirname, '..', '..', 'build', 'Release', 'kvm_riscv.node');

function usable(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(ADDON)) return false;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return (createRequire(import.meta.url)(ADDON) as { arch?: string }).arch === 'other';
  } catch {
    return false;
  }
}

const RESET_SLOT_BASE = 0xffff_0000n;
// x86 real mode at f000:fff0: a store outside every slot (an MMIO exit) in a loop.
const MMIO_LOOP = [0xc6, 0x06, 0x00, 0x50, 0x55, 0xeb, 0xf9]; // mov byte [0x5000], 0x55; jmp -7
// ... or a spin that never exits by itself.
const SPIN = [0xeb, 0xfe]; // jmp $

describe.skipIf(!usable())('run() polling for a quick exit (x86_64 /dev/kvm)', () => {
  let hv: KvmHypervisor | undefined;
  afterEach(() => hv?.close());

  function machine(code: number[]) {
    hv = openKvm('/dev/kvm', { ...defaultHostProbe(), anyArch: true });
    const vm = hv.createVm();
    const rom = vm.setMemoryRegion({ slot: 1, guestPhysAddr: RESET_SLOT_BASE, size: 0x10000 });
    rom.writeBytes(RESET_SLOT_BASE + 0xfff0n, new Uint8Array(code));
    return vm.createVcpu(0);
  }

  it('delivers every exit exactly once, alternating between the poll and the event loop', async () => {
    const vcpu = machine(MMIO_LOOP);
    for (let i = 0; i < 300; i++) {
      vcpu.runPollMicros = i % 3 === 0 ? 0 : 200_000;
      const exit = await vcpu.run();
      expect(exit).toMatchObject({ reason: 'mmio', address: 0x5000n, isWrite: true });
      expect(vcpu.state).toBe('idle');
    }
    // Nothing left over: a spare delivery would have resolved nothing, but a stop now must
    // interrupt exactly the next run.
    vcpu.stop();
    expect(await vcpu.run()).toEqual({ reason: 'interrupted' });
  });

  it('gives up after runPollMicros and leaves a long run to the event loop; stop() still ends it', async () => {
    const vcpu = machine(SPIN);
    vcpu.runPollMicros = 30_000;
    const t0 = performance.now();
    const pending = vcpu.run();
    const blocked = performance.now() - t0;
    expect(blocked).toBeGreaterThanOrEqual(25);
    expect(blocked).toBeLessThan(1000);
    expect(vcpu.state).toBe('running');
    await new Promise((r) => setTimeout(r, 20));
    vcpu.stop();
    expect(await pending).toEqual({ reason: 'interrupted' });

    vcpu.runPollMicros = 0;
    const t1 = performance.now();
    const second = vcpu.run();
    expect(performance.now() - t1).toBeLessThan(25);
    vcpu.stop();
    expect(await second).toEqual({ reason: 'interrupted' });
  });

  it('a stop() from a timer during a polled run of a spinning guest is seen by the poll', async () => {
    const vcpu = machine(SPIN);
    vcpu.runPollMicros = 0;
    const first = vcpu.run();
    setTimeout(() => vcpu.stop(), 10);
    expect(await first).toEqual({ reason: 'interrupted' });
    // Now a poll long enough to outlast a stop from another thread (stopVcpuByToken is the
    // any-thread stop; here the run thread itself answers EINTR while run() still polls).
    vcpu.runPollMicros = 500_000;
    vcpu.stop(); // immediate_exit set before the run starts: KVM_RUN returns EINTR at once
    const t0 = performance.now();
    const r = vcpu.run();
    expect(performance.now() - t0).toBeLessThan(400);
    expect(await r).toEqual({ reason: 'interrupted' });
  });
});
