#!/usr/bin/env bash
# The addon misuse checks under AddressSanitizer on real riscv64 KVM, in the nested rig (issue 6):
# the riscv64 counterpart of `npm run test:asan` (scripts/asan/run.sh, x86_64 /dev/kvm).
#
#   bash scripts/rig/run-asan-kvm.sh
#
# 1. scripts/asan/build-riscv64.sh: the ASan cross build of the addon, trixie's riscv64 libasan.so.8
#    and the canary, in .cache/asan-riscv64 (skipped with KVM_RIG_SKIP_BUILD=1 when present).
# 2. run-in-rig.sh with the kernel parameter no4lvl: the rig's kernel picks sv57 on QEMU's rv64,
#    and riscv64 libasan (GCC 14's libsanitizer) hard-codes an sv39 address space (user addresses
#    below 2^38); under sv48/sv57 node's stack lies above its HighMem and the first shadow access
#    faults. KVM does not care: its G-stage mode is probed separately (Sv57x4 either way).
# 3. In the guest, scripts/asan/rig-guest.sh: the canary must be reported, then misuse.cjs must
#    pass with no report from it, its children or its workers.
#
# Output: the check lines, any ASan report, and "asan-kvm: PASS|FAIL ..." last.
# Exit status: 0 pass; 1 a check failed, ASan reported or the canary stayed silent; 2 could not
# run (build, rig). Environment: KVM_RIG_SKIP_BUILD=1, KVM_RIG_TIMEOUT (default 1500 s),
# MISUSE_TIME_SCALE (timeouts in the guest, default 10), and run-in-rig.sh's.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
OUT=.cache/asan-riscv64
cd "$REPO" || exit 2
mkdir -p "$RIG_CACHE"

note() { echo "asan-kvm: $*" >&2; }
die() { note "could not run: $*"; echo "asan-kvm: FAIL (could not run)"; exit 2; }

if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 || ! -f "$OUT/kvm_riscv.node" ]]; then
  mkdir -p "$OUT"
  bash scripts/asan/build-riscv64.sh >/dev/null 2>"$RIG_CACHE/asan-kvm-build.log" \
    || { tail -n 30 "$RIG_CACHE/asan-kvm-build.log" >&2; die "scripts/asan/build-riscv64.sh (log $RIG_CACHE/asan-kvm-build.log)"; }
fi
for f in "$OUT/kvm_riscv.node" "$OUT/lib/libasan.so.8" "$OUT/canary.so" scripts/asan/misuse.cjs scripts/asan/rig-guest.sh; do
  [[ -f "$f" ]] || die "$f is missing"
done

log="$RIG_CACHE/asan-kvm.log"
t0=$SECONDS
KVM_RIG_KERNEL_ARGS="${KVM_RIG_KERNEL_ARGS:-} no4lvl" \
  KVM_RIG_EXTRA="${KVM_RIG_EXTRA:-} $OUT scripts/asan" \
  KVM_RIG_GUEST_ENV="${KVM_RIG_GUEST_ENV:-} MISUSE_TIME_SCALE=${MISUSE_TIME_SCALE:-10}" \
  "$HERE/run-in-rig.sh" --timeout "${KVM_RIG_TIMEOUT:-1500}" --log "$log" -- sh /kvm-riscv/scripts/asan/rig-guest.sh >/dev/null
status=$?
wall=$((SECONDS - t0))

# The guest's own lines: the checks, the reports, the result.
grep -aE '^(ok |FAIL |misuse: |asan-rig: |ASAN-REPORT-|ASAN-RIG-RESULT |==[0-9]+==|    #[0-9]+ |SUMMARY: |\[ *[0-9.]+\] kvm \[)' "$log" | tr -d '\r'
result="$(grep -a '^ASAN-RIG-RESULT ' "$log" | tail -n1)"
[[ -n "$result" ]] || die "the guest printed no result (run-in-rig status $status; log $log)"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
reports="$(field reports)"
checks="$(grep -aE '^misuse: [0-9]+ checks' "$log" | tail -n1)"
# The guest's status and its result line must agree on a pass: a clean exit with a report, a
# failed check, a silent canary or a kernel KVM error in the line is still a failure.
if ((status == 0)) && [[ "$(field misuse_status)" == 0 && "$reports" == 0 && "$(field canary)" == ok && "$(field kvm_errors)" == 0 ]]; then
  echo "asan-kvm: PASS (${checks:-no misuse summary}; AddressSanitizer reports: $reports; rig wall time ${wall} s)"
  exit 0
fi
echo "asan-kvm: FAIL (guest status $status; ${checks:-no misuse summary}; AddressSanitizer reports: ${reports:-?}; log $log; rig wall time ${wall} s)"
((status == 0 || status == 1)) && exit 1
exit 2
