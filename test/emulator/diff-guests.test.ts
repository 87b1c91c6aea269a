/**
 * Compiled blocks vs the interpreter over the conformance guest programs (guest/build/*.bin) run
 * through the whole software KVM: each program runs three times, with compilation off, with the
 * JavaScript block compiler and with the WebAssembly one (RAM in the VM's arena, so compiled loads
 * and stores really hit guest memory), compiling every block at its first entry. The exit
 * sequences must be identical (determinism: the same guest gives the same exits with and without
 * compilation), and at every exit the vCPU's whole architectural state and, at the end, guest RAM
 * must agree.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../../lib/backend/emulator/index.js';
import type { EmulatorVm } from '../../lib/backend/emulator/vm.js';
import type { Hart, JitMode } from '../../lib/backend/emulator/cpu/hart.js';
import { wasmStats } from '../../lib/backend/emulator/cpu/wasm-jit.js';
import type { VcpuExit } from '../../lib/backend/types.js';
import { guestArtifact } from '../support/paths.js';
import { RAM_SIZE, REPORT_EID, copyExit, exitSummary, loadProgram } from '../support/guest.js';
import { archState } from './diff-support.js';

/** Single-vCPU programs that end by themselves (SRST shutdown or a final exit). */
const PROGRAMS = ['isa-int', 'isa-rvc', 'isa-amo', 'isa-fp', 'isa-trap', 'isa-sbi', 'isa-vm', 'base', 'traps', 'timer', 'mmio', 'sequence', 'dbcn', 'srst'];
const MAX_EXITS = 3_000;

interface Trace {
  exits: string[];
  states: string[];
  ramHash: string;
  compiled: number;
}

async function trace(name: string, jit: JitMode | null): Promise<Trace> {
  const hv = createEmulator();
  const p = loadProgram(hv, name, { enableDbcn: true });
  try {
    const hart = (p.vm as unknown as EmulatorVm).kernelVcpus[0].hart as Hart;
    hart.jit = jit !== null;
    if (jit !== null) hart.jitMode = jit;
    hart.jitThreshold = 1;
    const exits: string[] = [];
    const states: string[] = [];
    for (let n = 0; n < MAX_EXITS; n++) {
      const exit: VcpuExit = copyExit(await p.vcpu.run());
      exits.push(exitSummary(exit));
      states.push(JSON.stringify(archState(hart)));
      if (exit.reason === 'sbi') {
        if (exit.extensionId === REPORT_EID) p.vcpu.setSbiReturn(0, 0);
        else p.vcpu.setSbiReturn(-2, 0); // SBI_ERR_NOT_SUPPORTED for anything forwarded
      } else if (exit.reason === 'mmio') {
        if (!exit.isWrite) p.vcpu.setMmioLoad(0x1234_5678n + BigInt(n));
      } else {
        break; // system_event, internal errors: the program is over
      }
    }
    const ramHash = createHash('sha256').update(p.ram.readBytes(0x8000_0000n, RAM_SIZE)).digest('hex');
    return { exits, states, ramHash, compiled: hart.jitCompiled };
  } finally {
    p.close();
    hv.close();
  }
}

describe('compiled blocks vs the interpreter, conformance guest programs', () => {
  const present = PROGRAMS.filter((n) => existsSync(guestArtifact(n, 'bin')));

  it('the guest programs are built', () => {
    expect(present.length, 'run npm run build:guest').toBeGreaterThanOrEqual(8);
  });

  it.each(present)('%s: same exits, same state at every exit, same RAM', async (name) => {
    const a = await trace(name, null);
    expect(a.compiled).toBe(0);
    for (const mode of ['js', 'wasm'] as const) {
      const wasmBefore = wasmStats.blocks;
      const b = await trace(name, mode);
      expect(b.compiled, `${mode}: blocks were compiled`).toBeGreaterThan(0);
      if (mode === 'wasm') expect(wasmStats.blocks, 'WebAssembly blocks were compiled').toBeGreaterThan(wasmBefore);
      expect(b.exits.length, `${name} (${mode}): exit count`).toBe(a.exits.length);
      for (let k = 0; k < a.exits.length; k++) {
        expect(b.exits[k], `${name} (${mode}): exit ${k}`).toBe(a.exits[k]);
        if (b.states[k] !== a.states[k]) expect(JSON.parse(b.states[k]), `${name} (${mode}): state at exit ${k} (${a.exits[k]})`).toEqual(JSON.parse(a.states[k]));
      }
      expect(b.ramHash, `${name} (${mode}): guest RAM at the end`).toBe(a.ramHash);
    }
  }, 60_000);
});
