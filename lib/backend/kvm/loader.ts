/**
 * Finds and loads the kvm_riscv addon, and explains exactly why the KVM backend cannot be used when
 * it cannot (style.md: "the loader lists every path it tried when it fails").
 *
 * Checks, in order: the host is linux-riscv64; an addon exists at one of
 *   prebuilds/linux-riscv64/kvm_riscv.node, build/Release/kvm_riscv.node, build/Debug/kvm_riscv.node
 * (relative to the package root) and loads; /dev/kvm can be opened read-write.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KVM_API_VERSION,
  KVM_GET_REG_LIST,
  KVM_RUN,
  KVM_RUN_OFF,
  KVM_RUN_SIZE,
  KVM_SET_ONE_REG,
} from '../../abi/kvm.js';
import type { NativeAddon } from './native.js';

export interface KvmAvailability {
  available: boolean;
  /** One sentence: what is missing and how to fix it (or "KVM is available"). */
  reason: string;
  /** Every addon path and device checked, with what was found. */
  tried: string[];
}

/** What the probe needs from the host; tests substitute their own. */
export interface HostProbe {
  platform: string;
  arch: string;
  packageRoot: string;
  exists(path: string): boolean;
  loadAddon(path: string): unknown;
  /** Opens and closes the device read-write; throws the errno error on failure. */
  openDevice(path: string): void;
  /** Accept an addon built for another architecture (the x86_64 smoke build). Default false. */
  anyArch?: boolean;
}

export const ADDON_RELATIVE_PATHS = [
  'prebuilds/linux-riscv64/kvm_riscv.node',
  'build/Release/kvm_riscv.node',
  'build/Debug/kvm_riscv.node',
] as const;

/** The directory holding kvm-riscv's package.json, found by walking up from this file (works from
 * lib/ under a TS loader and from dist/lib once compiled). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kvm-riscv') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return join(from, '..', '..', '..');
    dir = parent;
  }
}

export function defaultHostProbe(): HostProbe {
  const require = createRequire(import.meta.url);
  return {
    platform: process.platform,
    arch: process.arch,
    packageRoot: packageRoot(),
    exists: existsSync,
    loadAddon: (p) => require(p),
    openDevice: (p) => closeSync(openSync(p, 'r+')), // O_RDWR; Node adds O_CLOEXEC
  };
}

/** Checks that the addon was compiled against the same ABI numbers as lib/abi/kvm.ts. */
export function addonAbiMismatch(addon: NativeAddon): string | undefined {
  const a = addon.abi;
  if (typeof a !== 'object' || a === null) return 'the addon exports no abi table';
  const expect: Array<[string, number, number]> = [
    ['KVM_API_VERSION', a.KVM_API_VERSION, KVM_API_VERSION],
    ['KVM_RUN', a.KVM_RUN, KVM_RUN],
    ['KVM_SET_ONE_REG', a.KVM_SET_ONE_REG, KVM_SET_ONE_REG],
    ['KVM_GET_REG_LIST', a.KVM_GET_REG_LIST, KVM_GET_REG_LIST],
    ['exit union offset', a.exitUnionOffset, KVM_RUN_OFF.exit_union],
    ['riscv_sbi.ret offset', a.sbiRetOffset, KVM_RUN_OFF.riscv_sbi_ret],
    ['riscv_csr.ret_value offset', a.csrRetOffset, KVM_RUN_OFF.riscv_csr_ret_value],
  ];
  if (addon.arch === 'riscv64') expect.push(['sizeof(struct kvm_run)', a.sizeofKvmRun, KVM_RUN_SIZE]);
  for (const [name, got, want] of expect) {
    if (got !== want) return `${name} is ${got} in the addon but ${want} in lib/abi/kvm.ts`;
  }
  return undefined;
}

export interface LoadResult extends KvmAvailability {
  addon?: NativeAddon;
}

const DEVICE_FIXES: Readonly<Record<string, string>> = {
  ENOENT: 'does not exist: load the kvm module (modprobe kvm) on a host whose CPU has the RISC-V H extension',
  EACCES:
    'is not accessible (EACCES): add your user to the kvm group (sudo usermod -aG kvm $USER, then log in again) or give it rw permissions',
  EPERM: 'may not be opened (EPERM): a security policy (container, seccomp, LSM) forbids it; give the process access to /dev/kvm',
  ENODEV:
    'exists but no hypervisor is behind it (ENODEV): kvm.ko did not initialise (no H extension, SBI < 0.2 without RFENCE, or no G-stage paging mode; see dmesg)',
  ENXIO: 'exists but no hypervisor is behind it (ENXIO): kvm.ko is not loaded',
};

/** Loads the addon and checks the device; never throws. */
export function probeKvm(devicePath = '/dev/kvm', host: HostProbe = defaultHostProbe()): LoadResult {
  const tried: string[] = [];
  const target = `${host.platform}-${host.arch}`;
  if (!host.anyArch && (host.platform !== 'linux' || host.arch !== 'riscv64')) {
    tried.push(`host ${target}: KVM for RISC-V guests needs linux-riscv64`);
    return { available: false, reason: `this is a ${target} host; the KVM backend needs linux-riscv64 (use the emulator backend)`, tried };
  }

  let addon: NativeAddon | undefined;
  for (const rel of ADDON_RELATIVE_PATHS) {
    const path = join(host.packageRoot, rel);
    if (!host.exists(path)) {
      tried.push(`${path}: not found`);
      continue;
    }
    try {
      const loaded = host.loadAddon(path) as NativeAddon;
      if (typeof loaded?.openSystem !== 'function') {
        tried.push(`${path}: loaded but exports no openSystem()`);
        continue;
      }
      const mismatch = addonAbiMismatch(loaded);
      if (mismatch) {
        tried.push(`${path}: ABI mismatch (${mismatch}); rebuild the addon`);
        continue;
      }
      if (!host.anyArch && loaded.arch !== 'riscv64') {
        tried.push(`${path}: built for another architecture (${String(loaded.arch)})`);
        continue;
      }
      tried.push(`${path}: loaded`);
      addon = loaded;
      break;
    } catch (e) {
      tried.push(`${path}: failed to load: ${(e as Error).message}`);
    }
  }
  if (!addon) {
    return {
      available: false,
      reason: 'the native addon kvm_riscv.node is missing or unusable (npm run build:addon, or reinstall to get the prebuild)',
      tried,
    };
  }

  try {
    host.openDevice(devicePath);
    tried.push(`${devicePath}: opened read-write`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const fix = DEVICE_FIXES[code] ?? `cannot be opened (${code}: ${(e as Error).message})`;
    tried.push(`${devicePath}: ${code}`);
    return { available: false, reason: `${devicePath} ${fix}`, tried, addon };
  }
  return { available: true, reason: 'KVM is available', tried, addon };
}

/** A device path given by the caller: a non-empty string (open(2) takes a C string, so no NUL). */
export function checkDevicePath(path: unknown): asserts path is string {
  if (typeof path !== 'string') throw new TypeError(`path must be a string such as '/dev/kvm', got ${typeof path}`);
  if (path === '' || path.includes('\0')) throw new RangeError(`path ${JSON.stringify(path)} is not a device path`);
}

/** Why the KVM backend can or cannot be used on this host. */
export function kvmAvailability(devicePath = '/dev/kvm'): KvmAvailability {
  checkDevicePath(devicePath);
  const { available, reason, tried } = probeKvm(devicePath);
  return { available, reason, tried };
}
