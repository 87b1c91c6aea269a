/**
 * Real-KVM-only behaviour (skipped without a riscv64 /dev/kvm; the rig runs it): things only the
 * native backend's threads and signals can get wrong.
 *   - the external interrupt line raised while the vCPU thread sleeps in the kernel's WFI;
 *   - stop() latency: immediate_exit + signal must get a spinning vCPU out of KVM_RUN promptly;
 *   - runSync() from a worker thread (the addon's per-instance state, house style "better-sqlite3");
 *   - the cost of one forwarded SBI round trip (printed; the rig doc has ~50 µs for C).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hypervisor } from '../../lib/backend/types.js';
import { REG_A0, REG_A1, REG_PC, regId } from '../../lib/abi/regs.js';
import { describeKvm } from '../support/backends.js';
import { LOAD_ADDR, RAM_BASE, RAM_SIZE, REPORT_EID, runToReport, runUntil, runWithTimeout, withProgram } from '../support/guest.js';
import { guestArtifact, repoRoot } from '../support/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The KVM backend as a module a worker can import: the built dist/ (the rig ships it), else the
 * TypeScript source through scripts/ts-loader.mjs. */
function kvmModuleForWorker(): { url: string; execArgv: string[] } {
  const root = repoRoot();
  const dist = join(root, 'dist', 'lib', 'backend', 'kvm', 'index.js');
  if (existsSync(dist)) return { url: pathToFileURL(dist).href, execArgv: [] };
  const src = join(root, 'lib', 'backend', 'kvm', 'index.ts');
  const loader = join(root, 'scripts', 'ts-loader.mjs');
  if (existsSync(src) && existsSync(loader)) return { url: pathToFileURL(src).href, execArgv: ['--import', pathToFileURL(loader).href] };
  throw new Error(`no importable KVM backend for a worker (looked for ${dist} and ${src})`);
}

/** Runs in the worker: its own hypervisor, VM and vCPU; runSync() until SRST. CommonJS (eval). */
const WORKER_SOURCE = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
(async () => {
  const { openKvm } = await import(workerData.url);
  const hv = openKvm();
  const vm = hv.createVm();
  try {
    const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: workerData.ramBase, size: workerData.ramSize });
    ram.writeBytes(workerData.loadAddr, new Uint8Array(readFileSync(workerData.image)));
    const vcpu = vm.createVcpu(0);
    vcpu.setReg(workerData.regPc, workerData.loadAddr);
    vcpu.setReg(workerData.regA0, 0n);
    vcpu.setReg(workerData.regA1, 0n);
    vcpu.setReg(workerData.regA2, workerData.rounds);
    const echoes = [];
    for (let i = 0; i < 10 * Number(workerData.rounds) + 10; i++) {
      const exit = vcpu.runSync();
      if (exit.reason === 'sbi' && exit.extensionId === workerData.reportEid) {
        echoes.push([exit.args[0], exit.args[1]]);
        vcpu.setSbiReturn(0, exit.args[0] + 1000n);
        continue;
      }
      parentPort.postMessage({ threadId, echoes, last: exit.reason, type: exit.type });
      return;
    }
    parentPort.postMessage({ error: 'too many exits' });
  } finally {
    vm.close();
    hv.close();
  }
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

describeKvm((backend) => {
  let hv: Hypervisor;
  beforeAll(() => { hv = backend.open(); });
  afterAll(() => hv?.close());

  it('external interrupt raised while the vCPU sleeps in the kernel WFI wakes it', async () => {
    await withProgram(hv, 'irq', {}, async (p) => {
      await runToReport(p.vcpu);
      p.vcpu.setSbiReturn(0, 0);
      const latencies: number[] = [];
      const pending = runWithTimeout(p.vcpu, 20_000);
      await sleep(100);
      expect(p.vcpu.state).toBe('running');
      const t0 = performance.now();
      p.vcpu.setExternalInterrupt(true);
      const exit = await pending;
      latencies.push(performance.now() - t0);
      expect(exit).toMatchObject({ reason: 'sbi', extensionId: REPORT_EID, functionId: 2n });
      p.vcpu.setExternalInterrupt(false);
      p.vcpu.setSbiReturn(0, 0);
      const rest = await runUntil(p.vcpu);
      expect(rest.last).toMatchObject({ reason: 'system_event', type: 'shutdown' });
      console.log(`[kvm] external interrupt -> guest report: ${latencies[0]!.toFixed(2)} ms`);
      expect(latencies[0]!).toBeLessThan(2000);
    });
  });

  it('stop() gets a spinning vCPU out of KVM_RUN promptly, every time', async () => {
    await withProgram(hv, 'spin', { regs: { 'core.a2': 0x80300000n } }, async (p) => {
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) {
        const run = p.vcpu.run();
        await sleep(30);
        const t0 = performance.now();
        p.vcpu.stop();
        expect((await run).reason).toBe('interrupted');
        latencies.push(performance.now() - t0);
      }
      console.log(`[kvm] stop() latency ms: ${latencies.map((l) => l.toFixed(2)).join(', ')} (median ${median(latencies).toFixed(2)})`);
      expect(median(latencies)).toBeLessThan(500);
    });
  });

  it('runSync() drives a VM from a worker thread', async () => {
    const mod = kvmModuleForWorker();
    const rounds = 50n;
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: mod.execArgv,
        workerData: {
          url: mod.url, image: guestArtifact('pingpong'), ramBase: RAM_BASE, ramSize: RAM_SIZE, loadAddr: LOAD_ADDR,
          regPc: REG_PC, regA0: REG_A0, regA1: REG_A1, regA2: regId('core.a2'), rounds, reportEid: REPORT_EID,
        },
      });
      const timer = setTimeout(() => { void worker.terminate(); reject(new Error('worker timed out')); }, 60_000);
      worker.once('message', (m: Record<string, unknown>) => { clearTimeout(timer); void worker.terminate(); resolve(m); });
      worker.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    expect(result.error).toBeUndefined();
    expect(result.threadId).toBeGreaterThan(0);
    expect(result.last).toBe('system_event');
    const echoes = result.echoes as Array<[bigint, bigint]>;
    expect(echoes).toHaveLength(Number(rounds));
    // Each report carries the answer to the previous one: proof the completions were applied.
    echoes.forEach(([i, prev], n) => {
      expect(i).toBe(BigInt(n));
      expect(prev).toBe(n === 0 ? 0n : BigInt(n - 1) + 1000n);
    });
  });

  it('forwarded SBI round trip: run() and runSync() cost per exit (printed)', async () => {
    const rounds = 200n; // ~12 ms per exit under nested TCG: keep the rig run short
    for (const mode of ['run', 'runSync'] as const) {
      await withProgram(hv, 'pingpong', { regs: { 'core.a2': rounds } }, async (p) => {
        let n = 0n;
        const t0 = performance.now();
        for (;;) {
          const exit = mode === 'run' ? await p.vcpu.run() : p.vcpu.runSync();
          if (exit.reason !== 'sbi') { expect(exit.reason).toBe('system_event'); break; }
          expect(exit.args[0]).toBe(n);
          n++;
          p.vcpu.setSbiReturn(0, 0);
        }
        const us = ((performance.now() - t0) * 1000) / Number(rounds);
        expect(n).toBe(rounds);
        console.log(`[kvm] ${mode}: ${us.toFixed(1)} µs per forwarded SBI exit (${rounds} exits)`);
      });
    }
  });
});
