// P2: CPU-bound MIPS of the TypeScript emulator vs qemu-system-riscv64 (TCG), same guest program,
// same script. Run: npm run bench:p2 [-- --iterations N]
//
// The guest (bench/guest/p2-cpu.S) is assembled twice, with a short and a long iteration count.
// The emulator runs the long one; its retired-instruction count comes from the guest's own rdinstret
// at the final SRST call. QEMU (with OpenSBI, -bios default) runs both; the difference of the two wall
// times removes QEMU's start-up and firmware time, and the difference of the two instruction counts
// (measured on the emulator, the program is deterministic) gives QEMU's MIPS.
// Last line: {"metric":"P2","emulator_mips":..,"qemu_mips":..,"ratio":emulator/qemu, ...}
// Memory (bench/host-memory.ts has the definition), read in this process at the end of the long
// run, before the VM is closed: emulator_beyond_ram_mib = this whole node process's resident memory
// beyond the guest RAM's resident part (node itself included, as in bench:p3).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulator } from '../lib/backend/emulator/index.js';
import { regId } from '../lib/abi/regs.js';
import { type MemorySample, mib, sampleMemory } from './host-memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const argIter = process.argv.indexOf('--iterations');
const LONG = argIter > 0 ? Number(process.argv[argIter + 1]) : 20000; // ~390M instructions: long enough that QEMU's part is well above its start-up noise
const SHORT = 1;
const RAM_BYTES = 16 << 20;
const work = mkdtempSync(join(tmpdir(), 'kvm-riscv-p2-'));

function build(iterations: number): { elf: string; bin: string } {
  const obj = join(work, `p2-${iterations}.o`);
  const elf = join(work, `p2-${iterations}.elf`);
  const bin = join(work, `p2-${iterations}.bin`);
  execFileSync('riscv64-linux-gnu-as', ['-march=rv64im_zicsr', '--defsym', `ITERATIONS=${iterations}`, '-o', obj, join(here, 'guest/p2-cpu.S')]);
  execFileSync('riscv64-linux-gnu-ld', ['-T', join(here, 'guest/link.ld'), '-o', elf, obj]);
  execFileSync('riscv64-linux-gnu-objcopy', ['-O', 'binary', elf, bin]);
  return { elf, bin };
}

async function emulate(bin: string): Promise<{ seconds: number; instret: bigint; checksum: bigint; memory: MemorySample | null }> {
  const hv = createEmulator();
  const vm = hv.createVm();
  const ram = vm.setMemoryRegion({ slot: 0, guestPhysAddr: 0x80000000n, size: RAM_BYTES });
  ram.writeBytes(0x80200000n, readFileSync(bin));
  const vcpu = vm.createVcpu(0);
  vcpu.setReg(regId('core.pc'), 0x80200000n);
  const t0 = process.hrtime.bigint();
  const exit = await vcpu.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (exit.reason !== 'system_event' || exit.type !== 'shutdown') throw new Error(`unexpected exit ${exit.reason}`);
  const instret = vcpu.getReg(regId('core.a3'));
  const checksum = vcpu.getReg(regId('core.a2'));
  const memory = sampleMemory('self', RAM_BYTES);
  vm.close();
  hv.close();
  return { seconds, instret, checksum, memory };
}

function qemu(elf: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-riscv64', ['-machine', 'virt', '-nographic', '-m', '256M', '-bios', 'default',
    '-kernel', elf, '-no-reboot', '-monitor', 'none', '-serial', 'none'], { timeout: 300_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`qemu failed: ${r.status} ${r.stderr}`);
  return seconds;
}

const short = build(SHORT);
const long = build(LONG);
const eShort = await emulate(short.bin);
await emulate(long.bin); // warm-up: JIT tiers of the interpreter
const eLong = await emulate(long.bin);
const emulatorMips = Number(eLong.instret) / eLong.seconds / 1e6;
// Median of three for QEMU's two variants.
const median = (xs: number[]) => xs.sort((a, b) => a - b)[1];
const qShort = median([qemu(short.elf), qemu(short.elf), qemu(short.elf)]);
const qLong = median([qemu(long.elf), qemu(long.elf), qemu(long.elf)]);
const qemuMips = Number(eLong.instret - eShort.instret) / (qLong - qShort) / 1e6;
console.log(`guest: ${eLong.instret} instructions (checksum ${eLong.checksum.toString(16)})`);
console.log(`emulator: ${eLong.seconds.toFixed(3)} s, ${emulatorMips.toFixed(1)} MIPS`);
console.log(`qemu-system-riscv64 TCG: ${(qLong - qShort).toFixed(3)} s beyond start-up, ${qemuMips.toFixed(1)} MIPS`);
const mem = eLong.memory;
console.log(mem === null
  ? 'memory beyond guest RAM: unknown (no /proc, or no mapping of the guest RAM size)'
  : `memory: RSS ${mib(mem.rssKiB)} MiB, guest RAM resident ${mib(mem.ramRssKiB)} MiB (mapping ${mib(mem.ramMappingKiB)} MiB), beyond RAM ${mib(mem.beyondKiB)} MiB`);
console.log(JSON.stringify({
  metric: 'P2', emulator_mips: +emulatorMips.toFixed(1), qemu_mips: +qemuMips.toFixed(1), ratio: +(emulatorMips / qemuMips).toFixed(3), instructions: Number(eLong.instret),
  emulator_beyond_ram_mib: mem === null ? null : mib(mem.beyondKiB),
}));
