#!/usr/bin/env bash
# npm run test:kvm — the KVM test suite on real KVM, in the nested rig.
#
# Builds what the guest needs (trixie base initramfs and kernel, cached; the riscv64 addon through
# scripts/build-addon-riscv64.sh when that exists; dist; guest programs; the one-file test bundle
# of test/kvm + test/conformance + test/rig/smoke-guest.test.ts), boots the rig
# (scripts/rig/run-in-rig.sh) and runs the bundle in ONE node process there.
#
# The guest's reporter prints "KVM-RIG-RESULT passed=.. failed=.. skipped=.. todo=.."; this script
# exits non-zero when any test failed, a build step failed, node failed, or the guest never
# reported, and its last line is always
#   kvm-rig: N passed, N failed, N skipped
# (a harness failure counts as one failed test, so the line never reads as a clean run).
# KVM_RISCV_REQUIRE_KVM=1 in the guest makes an unusable KVM backend fail its tests instead of
# skipping them, and KVM_RISCV_TEST_BACKENDS=kvm (unless set) keeps the conformance suite to the
# KVM backend: the emulator backend runs on the host already, ~50x faster than under TCG
# (test/support/backends.ts).
#
# Environment: KVM_RIG_TIMEOUT (seconds for the boot + run, default 1500), KVM_RIG_SKIP_BUILD=1
# (use dist, guest/build and the addon as they are), KVM_RIG_TEST_FILES (space-separated test
# files/dirs to bundle instead of the KVM suite), KVM_RIG_LINUX=0 (do not build and ship the
# Linux e2e guest), and run-in-rig.sh's variables.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
cd "$REPO" || exit 2

harness_failures=0
note() { echo "kvm-rig: $*" >&2; }
harness_fail() { note "FAILED: $*"; harness_failures=$((harness_failures + 1)); }
finish() {
  local passed="$1" failed="$2" skipped="$3"
  failed=$((failed + harness_failures))
  echo "kvm-rig: $passed passed, $failed failed, $skipped skipped"
  ((failed == 0)) && exit 0
  exit 1
}

# Seconds since the script started, for the per-step timings CI logs show.
t0=$EPOCHREALTIME
since() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"

if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 ]]; then
  addon=prebuilds/linux-riscv64/kvm_riscv.node
  if [[ ! -f scripts/build-addon-riscv64.sh ]]; then
    note "warning: scripts/build-addon-riscv64.sh does not exist yet; the guest runs without the addon"
  elif up_to_date "$addon" native binding.gyp scripts/build-addon-riscv64.sh; then
    note "addon $addon is up to date"
  else
    note "building the riscv64 addon"
    npm run -s build:addon:riscv64 >&2 || harness_fail "npm run build:addon:riscv64"
  fi

  if up_to_date dist/lib lib tsconfig.json package.json; then
    note "dist is up to date"
  else
    note "building dist (tsc)"
    npm run -s build >&2 || harness_fail "npm run build"
  fi

  if [[ -f guest/build.sh ]]; then
    note "building guest programs"
    npm run -s build:guest >&2 || harness_fail "npm run build:guest"
  else
    note "warning: guest/build.sh does not exist yet; no guest programs in the payload"
  fi
fi

# The Linux end-to-end guest of test/kvm/linux-boot.test.ts (kernel Image, initramfs, disk; cached
# by build-initramfs.sh, which KVM_RIG_SKIP_BUILD=1 does not run) ships as .cache/e2e when built;
# KVM_RIG_LINUX=0, or a KVM_RIG_TEST_FILES without test/kvm in it, leaves it out (the test then
# skips, saying so).
if [[ "${KVM_RIG_LINUX:-1}" == 1 && ( -z "${KVM_RIG_TEST_FILES:-}" || "${KVM_RIG_TEST_FILES}" == *test/kvm* ) ]]; then
  if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 ]] && ! bash scripts/e2e/build-initramfs.sh >/dev/null; then
    note "warning: scripts/e2e/build-initramfs.sh failed; the Linux boot test skips"
  fi
  if [[ -s .cache/e2e/Image && -s .cache/e2e/initramfs.cpio && -s .cache/e2e/disk.img ]]; then
    export KVM_RIG_EXTRA="${KVM_RIG_EXTRA:-} .cache/e2e"
  fi
fi

note "builds done at $(since) s"
bundle="$RIG_CACHE/bundle"
rm -rf "$bundle"
# shellcheck disable=SC2086 # KVM_RIG_TEST_FILES is a space-separated list of files/dirs
if ! node scripts/rig/bundle-tests.mjs --out "$bundle" ${KVM_RIG_TEST_FILES:-} >&2; then
  harness_fail "bundling the KVM test suite (scripts/rig/bundle-tests.mjs)"
  finish 0 0 0
fi

log="$RIG_CACHE/kvm-tests.log"
"$HERE/run-in-rig.sh" --timeout "${KVM_RIG_TIMEOUT:-1500}" --log "$log" -- \
  env KVM_RISCV_REQUIRE_KVM=1 KVM_RISCV_TEST_BACKENDS="${KVM_RISCV_TEST_BACKENDS:-kvm}" \
  KVM_RIG_TEST_TIMEOUT_MS="${KVM_RIG_TEST_TIMEOUT_MS:-300000}" node --enable-source-maps \
  --test-reporter=/kvm-riscv/test/rig-bundle/reporter.mjs --test-reporter-destination=stdout \
  /kvm-riscv/test/rig-bundle/kvm-tests.mjs
status=$?
note "rig done at $(since) s (run-in-rig status $status)"

result="$(grep -aoE 'KVM-RIG-RESULT passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+ todo=[0-9]+' "$log" 2>/dev/null | tail -n1)"
if [[ -z "$result" ]]; then
  harness_fail "the guest printed no KVM-RIG-RESULT line (run-in-rig status $status; log $log)"
  finish 0 0 0
fi
field() { sed -E "s/.* $1=([0-9]+).*/\\1/" <<<"$result"; }
passed="$(field passed)"; failed="$(field failed)"; skipped="$(field skipped)"; todo="$(field todo)"
# node exits non-zero when a test failed; any other non-zero status with no failed test (a crash
# after the summary, a timeout in teardown) still must not pass.
if [[ "$status" != 0 && "$failed" == 0 ]]; then
  harness_fail "the in-guest run exited $status although no test failed"
fi
finish "$passed" "$failed" "$((skipped + todo))"
