#!/bin/sh
# Inside the rig (busybox sh, /kvm-riscv): the riscv64 half of issue 6, run by
# scripts/rig/run-asan-kvm.sh. Two node processes, both with trixie's libasan preloaded:
#
#   1. the canary (scripts/asan/canary.c): must produce exactly one ASan report, a
#      heap-buffer-overflow, or the setup cannot see bugs at all;
#   2. scripts/asan/misuse.cjs against the ASan build of the addon: must pass, with no report from
#      it, its child processes or its workers (log_path: one file per process).
#
# Reports are printed to the console between ASAN-REPORT-BEGIN/END lines (the guest's /tmp is gone
# once it powers off), then one line for the host to parse:
#   ASAN-RIG-RESULT misuse_status=S reports=N report_files=F canary=ok|FAILED kvm_errors=K
# Exit status: 0 when the misuse checks pass, no report was written, the canary fired and the
# kernel logged no KVM error (kvm_errors: "kvm [tid]: VCPU exit error" lines in dmesg, e.g. a
# vCPU that found its guest memory unmapped under an installed slot, "Failed to find VMA"; ASan
# cannot see that, the kernel can).
#
# ASAN_OPTIONS: detect_leaks=0 because node and V8 keep allocations until exit by design and
# LeakSanitizer would report them all (fd and memory leaks are the soak's job);
# verify_asan_link_order=0 because node itself is not sanitized (the runtime comes in by
# LD_PRELOAD, not as the first DT_NEEDED); halt_on_error=1 so a report ends the process and the
# check in progress fails too; allow_user_segv_handler=0 because node installs a SIGSEGV handler of
# its own that would otherwise replace ASan's, and a wild access would end the process with status
# 139 and no report; handle_abort=1 so an abort() (std::terminate, a failed V8 check) is reported
# with its stack too.
set -u
ASAN_DIR=/kvm-riscv/.cache/asan-riscv64
RUNTIME="$ASAN_DIR/lib/libasan.so.8"
OPTS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1:allow_user_segv_handler=0:handle_abort=1"

echo "asan-rig: $(grep -m1 '^mmu' /proc/cpuinfo | tr -s '\t ' ' ') (riscv64 libasan supports sv39 only)"
for f in "$RUNTIME" "$ASAN_DIR/kvm_riscv.node" "$ASAN_DIR/canary.so"; do
  [ -f "$f" ] || { echo "asan-rig: $f is missing"; echo "ASAN-RIG-RESULT misuse_status=2 reports=0 report_files=0 canary=FAILED kvm_errors=0"; exit 2; }
done

# Print every report file of a directory; count them and the reports in them.
files=0
reports=0
show_reports() {
  for f in "$1"/asan*; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    n="$(grep -c 'ERROR: AddressSanitizer' "$f")"
    [ "$n" -gt 0 ] || n=1 # a file without the usual header is still a report
    reports=$((reports + n))
    echo "ASAN-REPORT-BEGIN $f"
    head -n 80 "$f"
    echo "ASAN-REPORT-END"
  done
}

# 1. The canary.
mkdir -p /tmp/asan-canary
ASAN_OPTIONS="$OPTS:log_path=/tmp/asan-canary/asan" LD_PRELOAD="$RUNTIME" \
  timeout 120 node -e "process.dlopen({ exports: {} }, '$ASAN_DIR/canary.so')" >/dev/null 2>&1
canary=FAILED
if [ "$(cat /tmp/asan-canary/asan* 2>/dev/null | grep -c 'ERROR: AddressSanitizer: heap-buffer-overflow')" = 1 ]; then
  canary=ok
  echo "asan-rig: canary ok (the heap-buffer-overflow in canary.so was reported)"
else
  echo "asan-rig: canary FAILED: no heap-buffer-overflow report; what the canary left:"
  cat /tmp/asan-canary/asan* 2>/dev/null | head -n 40
fi

# 2. The misuse checks.
mkdir -p /tmp/asan-reports
start="$(cut -d' ' -f1 /proc/uptime)"
ASAN_OPTIONS="$OPTS:log_path=/tmp/asan-reports/asan" LD_PRELOAD="$RUNTIME" MISUSE_EXPECT_ASAN=1 \
  MISUSE_TIME_SCALE="${MISUSE_TIME_SCALE:-10}" \
  timeout "${MISUSE_TIMEOUT:-900}" node --expose-gc /kvm-riscv/scripts/asan/misuse.cjs "$ASAN_DIR/kvm_riscv.node"
status=$?
echo "asan-rig: misuse.cjs exited $status after $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s"
show_reports /tmp/asan-reports

kvm_errors="$(dmesg | grep -c 'kvm \[[0-9]*\]: VCPU exit error')"
if [ "$kvm_errors" != 0 ]; then
  echo "asan-rig: the kernel logged $kvm_errors KVM vCPU errors:"
  dmesg | grep 'kvm \[' | head -n 20
fi

echo "ASAN-RIG-RESULT misuse_status=$status reports=$reports report_files=$files canary=$canary kvm_errors=$kvm_errors"
[ "$status" = 0 ] && [ "$reports" = 0 ] && [ "$canary" = ok ] && [ "$kvm_errors" = 0 ] && exit 0
exit 1
