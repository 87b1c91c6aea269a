/**
 * Assembles small RISC-V guest snippets at test time with Debian's binutils-riscv64-linux-gnu
 * (riscv64-linux-gnu-as -march=rv64gc, ld, objcopy): source → flat image linked at `base`.
 * Results are cached by content hash in the OS temp dir, so reruns cost nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CROSS = process.env.CROSS ?? 'riscv64-linux-gnu-';

/** Macros every snippet can use: `sbi EID, FID` puts the ids in a7/a6 and does the ecall. */
const PRELUDE = `
  .option norvc
  .macro sbi eid, fid
    li a7, \\eid
    li a6, \\fid
    ecall
  .endm
`;

export function hasCrossTools(): boolean {
  try {
    execFileSync(`${CROSS}as`, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function assemble(source: string, base = 0x8000_0000): Uint8Array {
  const text = `${PRELUDE}\n  .text\n  .globl _start\n_start:\n${source}\n`;
  const key = createHash('sha256').update(`${base}\n${text}`).digest('hex').slice(0, 24);
  const dir = join(tmpdir(), 'kvm-riscv-asm');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `${key}.bin`);
  if (!existsSync(bin)) {
    const src = join(dir, `${key}.${process.pid}.S`);
    const obj = join(dir, `${key}.${process.pid}.o`);
    const elf = join(dir, `${key}.${process.pid}.elf`);
    const tmp = join(dir, `${key}.${process.pid}.bin`);
    writeFileSync(src, text);
    execFileSync(`${CROSS}as`, ['-march=rv64gc', '-mabi=lp64d', '-mno-relax', '-o', obj, src]);
    execFileSync(`${CROSS}ld`, ['-nostdlib', '-static', `-Ttext=0x${base.toString(16)}`, '-e', '_start', '-o', elf, obj]);
    execFileSync(`${CROSS}objcopy`, ['-O', 'binary', '-j', '.text', elf, tmp]);
    renameSync(tmp, bin);
  }
  return new Uint8Array(readFileSync(bin));
}
