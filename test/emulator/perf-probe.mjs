// Quick MIPS probe for the emulated hart (not a test): bundles the TypeScript hart with esbuild,
// runs a CPU-bound integer loop (ALU, loads/stores, branches) and prints millions of instructions
// per second.  Usage: node test/emulator/perf-probe.mjs [iterations] [--sv39]
// --sv39 runs the same loop at Linux's kernel address 0xffffffff80000000 through an Sv39 gigapage.
// --p2 runs the lead's benchmark guest instead (bench/guest/p2-cpu.S: ALU, 64-bit mul, loads/stores,
// data-dependent branches, calls), directly on a Hart.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'perf-probe-'));
const outfile = join(dir, 'bundle.mjs');
await build({
  stdin: {
    contents: `export { Hart } from './lib/backend/emulator/cpu/hart.ts';
               export { assemble, ramRegion } from './test/support/rvasm.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error',
});
const { Hart, assemble, ramRegion } = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });

const args = process.argv.slice(2);
const sv39 = args.includes('--sv39');
const iterations = Number(args.find((a) => !a.startsWith('--')) ?? 4_000_000);
const base = 0x80000000;
const code = args.includes('--p2') ? assembleP2() : assemble(`
  li t0, 0
  li t1, ${iterations}
  la s0, buf
loop:
  ld a0, 0(s0)
  addi a0, a0, 3
  xor a1, a0, t0
  sd a1, 8(s0)
  slli a2, a1, 3
  add a3, a2, a0
  sw a3, 16(s0)
  lw a4, 16(s0)
  and a5, a4, a1
  sub a6, a5, t0
  addi t0, t0, 1
  bne t0, t1, loop
  ecall
.balign 4096
buf: .dword 1, 2, 3, 4
`, base);

function assembleP2() {
  const { execFileSync } = require('node:child_process');
  const { readFileSync } = require('node:fs');
  const work = mkdtempSync(join(tmpdir(), 'perf-probe-p2-'));
  execFileSync('riscv64-linux-gnu-as', ['-march=rv64im_zicsr', '--defsym', 'ITERATIONS=3000', '-o', join(work, 'p2.o'), join(root, 'bench/guest/p2-cpu.S')]);
  execFileSync('riscv64-linux-gnu-ld', ['-Ttext=0x80000000', '-o', join(work, 'p2.elf'), join(work, 'p2.o')]);
  execFileSync('riscv64-linux-gnu-objcopy', ['-O', 'binary', join(work, 'p2.elf'), join(work, 'p2.bin')]);
  const bin = new Uint8Array(readFileSync(join(work, 'p2.bin')));
  rmSync(work, { recursive: true, force: true });
  return bin;
}

const ram = ramRegion(base, 1 << 20);
ram.bytes.set(code);
const hart = new Hart(0, { readTime: () => 0n });
hart.setRam([ram]);
hart.pc = BigInt(base);
const KVA = 0xffffffff80000000n;
const ROOT = 0x80000; // root page table inside RAM, far from code and data
if (sv39) {
  // VPN[2] of KVA = 510: one gigapage leaf V|R|W|X|A|D to the RAM base (priv spec §4.4.1).
  ram.view.setBigUint64(ROOT + 510 * 8, ((BigInt(base) >> 12n) << 10n) | 0xcfn, true);
}
for (let round = 0; round < 3; round++) {
  hart.reset();
  hart.setRam([ram]);
  hart.pc = BigInt(base);
  if (sv39) {
    hart.setCsr(0x180, (8n << 60n) | BigInt((base + ROOT) >>> 12));
    hart.pc = KVA;
  }
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let reason;
  do { reason = hart.run(1_000_000); } while (reason === 0);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  const cpuUs = cpu.user + cpu.system;
  // Wall-clock MIPS, and MIPS per CPU-second (meaningful when other processes share the cores).
  console.log(`round ${round}: stop ${reason}, ${hart.instret} instructions in ${(ns / 1e6).toFixed(1)} ms = ` +
    `${(hart.instret / ns * 1e3).toFixed(1)} MIPS wall, ${(hart.instret / cpuUs).toFixed(1)} MIPS per CPU-second`);
}
