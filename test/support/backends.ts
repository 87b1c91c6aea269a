/**
 * The backends every conformance test runs against (house style §13: one suite, `describe` per
 * backend, a skipped backend's title says how to enable it).
 *
 *   - emulator: always. If lib/backend/emulator fails to load, its tests fail (they do not skip).
 *   - kvm: when lib/backend/kvm reports kvmAvailability().available (a riscv64 Linux host with
 *     /dev/kvm and the addon built); elsewhere its describe is skipped with the way to run it.
 *
 * Environment:
 *   KVM_RISCV_TEST_BACKENDS=emulator,kvm   run only the listed backends
 *   KVM_RISCV_REQUIRE_KVM=1                an unavailable KVM fails instead of skipping (the rig
 *                                          sets this so a broken addon cannot pass silently)
 */
import { describe } from 'vitest';
import type { BackendKind, Hypervisor } from '../../lib/backend/types.js';

export interface BackendCase {
  readonly kind: BackendKind;
  /** Used as the describe title. */
  readonly title: string;
  readonly available: boolean;
  /** Why it is unavailable (empty when available). */
  readonly reasons: readonly string[];
  /** Opens a fresh hypervisor handle; throws the load/availability error when unusable. */
  open(): Hypervisor;
}

export const KVM_ENABLE_HINT = 'needs riscv64 /dev/kvm: run `npm run test:kvm`';

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function emulatorCase(): Promise<BackendCase> {
  try {
    const mod = await import('../../lib/backend/emulator/index.js');
    return { kind: 'emulator', title: 'emulator', available: true, reasons: [], open: () => mod.createEmulator() };
  } catch (e) {
    const why = `lib/backend/emulator/index.ts failed to load: ${describeError(e)}`;
    return {
      kind: 'emulator', title: 'emulator', available: true, reasons: [why],
      open: () => { throw new Error(why); },
    };
  }
}

async function kvmCase(): Promise<BackendCase> {
  const required = process.env.KVM_RISCV_REQUIRE_KVM === '1';
  let reasons: string[];
  let open: (() => Hypervisor) | undefined;
  try {
    const mod = await import('../../lib/backend/kvm/index.js');
    const availability = mod.kvmAvailability();
    if (availability.available) {
      open = () => mod.openKvm();
      reasons = [];
    } else {
      reasons = [availability.reason, ...availability.tried];
    }
  } catch (e) {
    reasons = [`lib/backend/kvm/index.ts failed to load: ${describeError(e)}`];
  }
  if (open) return { kind: 'kvm', title: 'kvm', available: true, reasons: [], open };
  const why = reasons.join('; ');
  if (required) {
    return { kind: 'kvm', title: 'kvm', available: true, reasons, open: () => { throw new Error(`KVM required but unavailable: ${why}`); } };
  }
  return {
    kind: 'kvm', title: `kvm (skipped: ${KVM_ENABLE_HINT})`, available: false, reasons,
    open: () => { throw new Error(`KVM unavailable: ${why}`); },
  };
}

function selected(kind: BackendKind): boolean {
  const list = process.env.KVM_RISCV_TEST_BACKENDS;
  if (!list) return true;
  return list.split(',').map((s) => s.trim()).includes(kind);
}

/** Every backend, in a fixed order; unavailable ones are listed with available = false. */
export const BACKENDS: readonly BackendCase[] = (await Promise.all([
  selected('emulator') ? emulatorCase() : undefined,
  selected('kvm') ? kvmCase() : undefined,
])).filter((b): b is BackendCase => b !== undefined);

/** describe(<backend>, body) for every backend; unavailable backends are skipped. */
export function describeBackends(body: (backend: BackendCase) => void): void {
  for (const backend of BACKENDS) {
    describe.skipIf(!backend.available)(backend.title, () => body(backend));
  }
}

/** describe(<kvm title>, body) for the KVM backend only (test/kvm): skipped where KVM is absent,
 * with the title saying how to run it. Nothing is declared when KVM_RISCV_TEST_BACKENDS leaves
 * KVM out. */
export function describeKvm(body: (backend: BackendCase) => void): void {
  const kvm = BACKENDS.find((b) => b.kind === 'kvm');
  if (kvm) describe.skipIf(!kvm.available)(kvm.title, () => body(kvm));
}
