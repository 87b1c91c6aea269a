// npm "install" hook. kvm-riscv only needs its native addon on riscv64 Linux, and ships a prebuilt
// one there (prebuilds/linux-riscv64). Everywhere else nothing is compiled and install succeeds;
// the loader (lib/backend/kvm/loader.ts) later explains why KVM is unavailable.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.platform !== 'linux' || process.arch !== 'riscv64') {
  console.log(`kvm-riscv: ${process.platform}-${process.arch} host, no native addon needed (emulator backend)`);
  process.exit(0);
}
if (existsSync(join(root, 'prebuilds', 'linux-riscv64', 'kvm_riscv.node'))) {
  console.log('kvm-riscv: using the prebuilt linux-riscv64 addon');
  process.exit(0);
}
console.log('kvm-riscv: no prebuilt addon, building with node-gyp');
const r = spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild'], { cwd: root, stdio: 'inherit' });
// A failed build is not fatal: the emulator backend still works and the loader reports why.
if (r.status !== 0) console.warn('kvm-riscv: native build failed; only the emulator backend is available');
