#!/usr/bin/env bash
# npm run bench:p4 — P4 (issue 4, "Benchmarks"): Debian trixie's riscv64 Linux from launch to the
# init marker under nested KVM, kvm-riscv's CLI (--backend kvm) vs trixie's qemu-system-riscv64
# (-accel kvm), both in ONE boot of the rig (scripts/rig/run-in-rig.sh), same kernel, initramfs,
# disk and command line (scripts/e2e/build-initramfs.sh, .cache/e2e).
#
# Builds when stale: the riscv64 addon and dist (as bench:p1 does), the e2e guest, and the pruned
# QEMU of bench/p4-build-qemu.sh (.cache/p4-qemu). Ships .cache/e2e, .cache/p4-qemu and
# bench/p4-linux-boot.mjs through KVM_RIG_EXTRA and runs the .mjs there (method in its header).
#
# Output: every result line (one JSON object per line); the LAST line is
#   {"metric":"P4","kvm_riscv_s":..,"qemu_s":..,"ratio":kvm_riscv_s/qemu_s,...}
# Exit status: 0 when the bench ran (whatever the ratio), non-zero when it could not run; then the
# last line is {"metric":"P4","error":"..."}.
#
# Environment: P4_RUNS (rounds, default 3), P4_BOOT_LIMIT_MS (one boot's hang bound in the rig,
# default 300000), KVM_RIG_SKIP_BUILD=1, KVM_RIG_TIMEOUT (default 1500), and run-in-rig.sh's.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
cd "$REPO" || exit 2

note() { echo "bench-p4: $*" >&2; }
die() {
  note "FAILED: $*"
  printf '{"metric":"P4","error":"%s"}\n' "$(printf '%s' "$*" | sed 's/["\\]/\\&/g')"
  exit 2
}

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"

runs="${P4_RUNS:-3}"
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 && "$runs" -le 20 ]] || die "P4_RUNS=$runs: 1..20"

if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 ]]; then
  addon=prebuilds/linux-riscv64/kvm_riscv.node
  if ! up_to_date "$addon" native binding.gyp scripts/build-addon-riscv64.sh; then
    note "building the riscv64 addon"
    npm run -s build:addon:riscv64 >&2 || die "npm run build:addon:riscv64 failed"
  fi
  if ! up_to_date dist/lib lib tsconfig.json package.json \
      || ! up_to_date dist/cli/kvm-riscv.cjs lib tsconfig.json package.json scripts/bundle-cli.mjs; then
    note "building dist (tsc, CLI bundle)"
    # Other parts of lib/ may be mid-edit; what the bench needs is the CLI and the KVM backend.
    npm run -s build >&2 || note "warning: tsc reported errors; using the emitted dist as it is"
  fi
  bash scripts/e2e/build-initramfs.sh >/dev/null || die "scripts/e2e/build-initramfs.sh failed"
  bash bench/p4-build-qemu.sh >/dev/null || die "bench/p4-build-qemu.sh failed"
fi
[[ -f dist/cli/kvm-riscv.cjs && -f dist/lib/cli/node-flags.js ]] || die "dist is missing (npm run build)"
[[ -f prebuilds/linux-riscv64/kvm_riscv.node ]] || die "the riscv64 addon is missing (npm run build:addon:riscv64)"
for f in .cache/e2e/Image .cache/e2e/initramfs.cpio .cache/e2e/disk.img; do
  [[ -s "$f" ]] || die "$f is missing (scripts/e2e/build-initramfs.sh)"
done
[[ -x .cache/p4-qemu/bin/qemu-system-riscv64 ]] || die ".cache/p4-qemu is missing (bench/p4-build-qemu.sh)"

log="$RIG_CACHE/bench-p4.log"
mkdir -p "$RIG_CACHE"
guest_env="${KVM_RIG_GUEST_ENV:-}"
[[ -n "${P4_BOOT_LIMIT_MS:-}" ]] && guest_env="$guest_env P4_BOOT_LIMIT_MS=$P4_BOOT_LIMIT_MS"
KVM_RIG_EXTRA="${KVM_RIG_EXTRA:-} .cache/e2e .cache/p4-qemu bench/p4-linux-boot.mjs" \
KVM_RIG_GUEST_ENV="$guest_env" \
  "$HERE/run-in-rig.sh" --timeout "${KVM_RIG_TIMEOUT:-1500}" --log "$log" -- \
  node /kvm-riscv/bench/p4-linux-boot.mjs --runs "$runs" >&2
status=$?

results="$(grep -a '^P4-RESULT ' "$log" | sed 's/^P4-RESULT //')"
[[ -n "$results" ]] || die "the rig printed no results (run-in-rig status $status; log $log)"
echo "$results"
last="$(tail -n1 <<<"$results")"
((status == 0)) || { note "the in-rig bench exited $status (log $log)"; exit 1; }
[[ "$last" == *'"metric":"P4"'* && "$last" == *'"ratio"'* ]] || die "the bench's last line is not the P4 summary (log $log)"
