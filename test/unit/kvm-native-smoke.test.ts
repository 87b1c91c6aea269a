/**
 * Smoke test of the real addon on an x86_64 host's /dev/kvm: the architecture-independent half
 * of the native bridge (memory slots as external buffers, dirty log, kvm_run decoding of a
 * generic MMIO exit, the vCPU thread, stop() via immediate_exit + signal, close paths, errno →
 * KvmError). The guest is a few bytes of x86 real-mode code at the reset vector; everything riscv
 * runs in the nested rig instead (npm run test:kvm).
 *
 * Runs only where a native build exists (npm run build:addon on an x86_64 Linux host with an
 * accessible /dev/kvm); skipped elsewhere, e.g. in CI which does not build the addon for x86_64.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { regId } from '../../lib/abi/regs.js';
import { openKvm, stopVcpuByToken, type KvmHypervisor } from '../../lib/backend/kvm/index.js';
import { defaultHostProbe } from '../../lib/backend/kvm/loader.js';
import { KvmError } from '../../lib/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ADDON = join(ROOT, 'build', 'Release', 'kvm_riscv.node');

function usable(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(ADDON)) return false;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    const addon = createRequire(import.meta.url)(ADDON) as { arch?: string };
    return addon.arch === 'other';
  } catch {
    return false;
  }
}

// x86 real mode starts at CS:IP = f000:fff0, physical 0xfffffff0 (CS base 0xffff0000).
const RESET_SLOT_BASE = 0xffff_0000n;
const RESET_CODE = [
  0xc6, 0x06, 0x00, 0x10, 0xaa, // mov byte [0x1000], 0xaa   (RAM, slot 0)
  0xc6, 0x06, 0x00, 0x50, 0x55, // mov byte [0x5000], 0x55   (no slot: MMIO exit)
  0xeb, 0xfe, //                   jmp $                     (spin until stopped)
];

describe.skipIf(!usable())('native addon on x86_64 /dev/kvm (smoke; build with npm run build:addon)', () => {
  let hv: KvmHypervisor | undefined;
  afterEach(() => hv?.close());

  function machine() {
    hv = openKvm('/dev/kvm', { ...defaultHostProbe(), anyArch: true });
    const vm = hv.createVm();
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0, size: 0x2000, logDirty: true });
    const rom = vm.setMemoryRegion({ slot: 1, guestPhysAddr: RESET_SLOT_BASE, size: 0x10000 });
    rom.writeBytes(RESET_SLOT_BASE + 0xfff0n, new Uint8Array(RESET_CODE));
    return { vm, ram, rom, vcpu: vm.createVcpu(0) };
  }

  it('runs to an MMIO exit, spins until stop(), and logs the dirty page', async () => {
    const { vm, ram, vcpu } = machine();
    expect(vm.getDirtyLog(0)[0]).toBe(0);
    const exit = await vcpu.run();
    expect(exit).toEqual({ reason: 'mmio', address: 0x5000n, length: 1, isWrite: true, data: new Uint8Array([0x55]) });
    expect(ram.read8(0x1000)).toBe(0xaa);
    expect(vm.getDirtyLog(0)[0]).toBe(0b10); // page 1 only
    expect(vm.getDirtyLog(0)[0]).toBe(0); // the log is cleared by reading it

    const pending = vcpu.run();
    expect(vcpu.state).toBe('running');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    vcpu.stop();
    expect(await pending).toEqual({ reason: 'interrupted' });
    const latency = performance.now() - t0;
    expect(latency).toBeLessThan(100);
    expect(vcpu.state).toBe('idle');
    // immediate_exit was cleared: the next run spins again rather than returning at once.
    const again = vcpu.run();
    const early = await Promise.race([again.then(() => 'returned'), new Promise((r) => setTimeout(() => r('spinning'), 50))]);
    expect(early).toBe('spinning');
    vcpu.stop();
    expect(await again).toEqual({ reason: 'interrupted' });
  });

  it('closing the VM with a vCPU in KVM_RUN stops it, and handles stay safe afterwards', async () => {
    const { vm, ram, vcpu } = machine();
    await vcpu.run(); // MMIO exit
    const pending = vcpu.run(); // spins
    await new Promise((r) => setTimeout(r, 20));
    vm.close();
    expect(await pending).toEqual({ reason: 'interrupted' });
    expect(vcpu.state).toBe('closed');
    expect(ram.closed).toBe(true);
    expect(() => ram.read8(0)).toThrow(/deleted or its VM closed/);
    vm.close();
    vcpu.close();
    vcpu.stop();
  });

  it('runSync() returns the same exit on the calling thread; errno becomes KvmError', () => {
    const { vcpu } = machine();
    expect(vcpu.runSync()).toMatchObject({ reason: 'mmio', address: 0x5000n });
    vcpu.stop();
    expect(vcpu.runSync()).toEqual({ reason: 'interrupted' });
    try {
      vcpu.getReg(regId('core.pc')); // riscv register id: x86 KVM refuses it
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmError);
      expect((e as KvmError).message).toMatch(/^KVM_GET_ONE_REG \(core\.pc\): /);
      expect((e as KvmError).syscall).toBe('ioctl');
    }
  });

  it('rejects overlapping slots and reused vCPU ids before the kernel; big slots fill and delete', () => {
    const { vm } = machine();
    expect(() => vm.setMemoryRegion({ slot: 2, guestPhysAddr: 0x1000, size: 0x1000 })).toThrow(/overlaps slot 0/);
    expect(() => vm.createVcpu(0)).toThrow(/File exists/);
    const m = vm.setMemoryRegion({ slot: 2, guestPhysAddr: 0x10_0000, size: 0x20_0000 });
    m.fill(0x10_0000, 0x20_0000, 0x5a);
    expect(m.read64(0x2f_fff8)).toBe(0x5a5a_5a5a_5a5a_5a5an);
    vm.deleteMemoryRegion(2);
    expect(m.closed).toBe(true);
  });

  // A spinning vCPU, driven by the raw addon (CommonJS, so it runs in a worker or `node -e`).
  const SPINNER = `
    const a = require(${JSON.stringify(ADDON)});
    const sys = a.openSystem('/dev/kvm');
    const vm = sys.createVm(0);
    new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
    const v = vm.createVcpu(0);
    v.run().then((r) => console.log('resolved ' + r));
  `;

  it('a worker terminated with its vCPU in KVM_RUN is torn down (env cleanup hook joins the thread)', async () => {
    const w = new Worker(
      `${SPINNER}; setTimeout(() => require('node:worker_threads').parentPort.postMessage('running'), 50);`,
      { eval: true },
    );
    const [msg] = await once(w, 'message');
    expect(msg).toBe('running');
    const t0 = performance.now();
    await w.terminate();
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('process.exit() with a vCPU in KVM_RUN exits promptly and cleanly', () => {
    const r = spawnSync(process.execPath, ['-e', `${SPINNER}; setTimeout(() => process.exit(7), 100);`], { timeout: 10_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(7);
    // Without process.exit the pending run keeps the loop alive, as a pending socket would.
    const hang = spawnSync(process.execPath, ['-e', SPINNER], { timeout: 1_000 });
    expect(hang.signal).toBe('SIGTERM');
  });

  it('stopVcpuByToken() reaches a worker blocked in runSync() from the main thread', async () => {
    const w = new Worker(
      `${SPINNER.replace('v.run().then((r) => console.log(\'resolved \' + r));', '')}
       const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(v.stopToken);
       parentPort.postMessage('runSync ' + v.runSync());`,
      { eval: true },
    );
    const [token] = await once(w, 'message');
    expect(typeof token).toBe('number');
    await new Promise((r) => setTimeout(r, 100)); // let it enter KVM_RUN
    hv = openKvm('/dev/kvm', { ...defaultHostProbe(), anyArch: true }); // loads the addon here too
    expect(stopVcpuByToken(token as number)).toBe(true);
    const [result] = await once(w, 'message');
    expect(result).toBe('runSync 4'); // EINTR
    await w.terminate();
    expect(stopVcpuByToken(0xffff_fff0)).toBe(false);
  });

  it('an open() failure is a KvmError naming the path and the syscall', () => {
    const probe = { ...defaultHostProbe(), anyArch: true, openDevice() {} }; // skip the probe's own open
    try {
      openKvm('/nonexistent-kvm', probe);
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(KvmError);
      expect((e as KvmError).syscall).toBe('open');
      expect((e as KvmError).message).toBe('open /nonexistent-kvm: No such file or directory');
    }
  });

  it('garbage collection while a vCPU thread runs keeps what the thread needs, then frees it all', () => {
    // Everything is dropped while KVM_RUN is in progress; GC must not finalize the vCPU (its run
    // is pending) nor the VM (the vCPU references it). After the run resolves, a second GC may
    // collect them all: the destructors close fds, delete slots and unmap memory.
    const script = `
      const a = require(${JSON.stringify(ADDON)});
      let token;
      (function start() {
        const sys = a.openSystem('/dev/kvm');
        const vm = sys.createVm(0);
        new Uint8Array(vm.setMemoryRegion(1, 0, 0xffff0000n, 0x10000)).set([0xeb, 0xfe], 0xfff0);
        const v = vm.createVcpu(0);
        token = v.stopToken;
        v.run().then((r) => { console.log('resolved ' + r); setTimeout(collectThenCheck, 10, 5); });
      })();
      // Finalizers of wrapped objects run after the GC that found them (Node defers them), so
      // collect, yield, and look again a few times.
      function collectThenCheck(tries) {
        gc();
        setImmediate(() => {
          const alive = a.stopVcpu(token);
          if (alive && tries > 0) setTimeout(collectThenCheck, 20, tries - 1);
          else console.log('token alive after gc: ' + alive);
        });
      }
      setTimeout(() => { gc(); gc(); console.log('stop ' + a.stopVcpu(token)); }, 100);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { timeout: 10_000, encoding: 'utf8' });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['stop true', 'resolved 4', 'token alive after gc: false']);
  });
});
