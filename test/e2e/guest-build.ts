/**
 * Builds tiny bare-metal RISC-V guests at test time with the Debian cross binutils
 * (riscv64-linux-gnu-as / -ld, installed by scripts/setup.sh). Tests that need them skip when the
 * tools are missing and say so in their title.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasCrossBinutils =
  spawnSync('riscv64-linux-gnu-as', ['--version']).status === 0 &&
  spawnSync('riscv64-linux-gnu-ld', ['--version']).status === 0;

export interface BuiltGuest {
  dir: string;
  elf: string;
  /** The same program as a flat binary (objcopy -O binary), when asked for. */
  bin?: string;
  cleanup(): void;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
}

/**
 * Assembles `source` and links it statically, with .text at `textAddress` (default RAM + 2 MiB) or
 * by `linkerScript` when given.
 */
export function buildGuest(source: string, opts: { textAddress?: bigint; linkerScript?: string; flat?: boolean } = {}): BuiltGuest {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-riscv-guest-'));
  const asm = join(dir, 'prog.S');
  const obj = join(dir, 'prog.o');
  const elf = join(dir, 'prog.elf');
  writeFileSync(asm, source);
  run('riscv64-linux-gnu-as', ['-march=rv64imac_zicsr', '-mabi=lp64', '-o', obj, asm]);
  let placement: string[];
  if (opts.linkerScript !== undefined) {
    const script = join(dir, 'link.ld');
    writeFileSync(script, opts.linkerScript);
    placement = ['-T', script];
  } else {
    placement = [`-Ttext=0x${(opts.textAddress ?? 0x8020_0000n).toString(16)}`];
  }
  run('riscv64-linux-gnu-ld', ['-static', '-nostdlib', '--no-relax', '-e', '_start', ...placement, '-o', elf, obj]);
  let bin: string | undefined;
  if (opts.flat) {
    bin = join(dir, 'prog.bin');
    run('riscv64-linux-gnu-objcopy', ['-O', 'binary', elf, bin]);
  }
  return { dir, elf, bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** SBI ecall helpers for guest sources (SBI v2.0 §3: a7 = EID, a6 = FID, a0..a5 = args). */
export const SBI_ASM = {
  DBCN: 0x4442434e,
  SRST: 0x53525354,
};

/**
 * A guest that prints `message` through DBCN console_write (SBI §12.1), then calls SRST
 * system_reset(type, reason) (SBI §10.1). If SRST returns, it spins.
 */
export function helloThenResetSource(message: string, resetType: number, resetReason: number): string {
  const bytes = Array.from(new TextEncoder().encode(message)).join(', ');
  return `
  .section .text
  .globl _start
_start:
  li a7, ${SBI_ASM.DBCN}
  li a6, 0              # console_write
  li a0, ${new TextEncoder().encode(message).length}
  la a1, msg            # base_lo (physical: satp = 0)
  li a2, 0              # base_hi
  ecall
  li a7, ${SBI_ASM.SRST}
  li a6, 0              # system_reset
  li a0, ${resetType}
  li a1, ${resetReason}
  ecall
1: j 1b
  .section .rodata
msg: .byte ${bytes}
`;
}
