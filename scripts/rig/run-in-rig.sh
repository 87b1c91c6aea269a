#!/usr/bin/env bash
# Boot the real-KVM rig and run one command inside it.
#
#   run-in-rig.sh [--timeout SECONDS] [--log FILE] [--] COMMAND [ARG...]
#
# The rig is a Debian trixie riscv64 kernel in qemu-system-riscv64 (TCG) with the hypervisor
# extension (-cpu rv64,h=true), so the guest loads kvm.ko and has a real /dev/kvm; COMMAND runs
# in it as root from /kvm-riscv, a copy of the repo's built parts (see build-rootfs.sh payload),
# with KVM_RISCV_ROOT=/kvm-riscv and KVM_RIG=1. The console streams to stdout and to the log
# (default .cache/rig/last-run.log).
#
# Exit status: COMMAND's own, as /init reports it with "KVM-RIG-EXIT <status>"; 124 when the
# guest never reports (timeout, kernel panic, QEMU failure); 2 when the rig cannot be set up.
# Nothing in the guest is trusted to end QEMU: a hard timeout kills it.
#
# Environment: KVM_RIG_TIMEOUT (default 900 s), KVM_RIG_SMP (2), KVM_RIG_MEM (2G),
# KVM_RIG_BASE_DIR (use this Image + base.cpio instead of building them), KVM_RIG_EXTRA
# (space-separated repo-relative paths to ship too, e.g. a benchmark's files), KVM_RIG_GUEST_ENV
# (space-separated NAME=value pairs exported to COMMAND), KVM_RIG_KERNEL_ARGS (more kernel
# parameters, e.g. no4lvl for the sv39 address space riscv64 ASan needs), RIG_CACHE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"

timeout_s="${KVM_RIG_TIMEOUT:-900}"
logfile="$RIG_CACHE/last-run.log"
while (($#)); do
  case "$1" in
    --timeout) timeout_s="$2"; shift 2 ;;
    --log) logfile="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "run-in-rig: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($#)) || { echo "usage: $0 [--timeout S] [--log FILE] [--] COMMAND [ARG...]" >&2; exit 2; }
[[ "$timeout_s" =~ ^[0-9]+$ && "$timeout_s" -gt 0 ]] || { echo "run-in-rig: bad timeout: $timeout_s" >&2; exit 2; }
command -v qemu-system-riscv64 >/dev/null \
  || { echo "run-in-rig: qemu-system-riscv64 not found (scripts/setup.sh installs qemu-system-misc)" >&2; exit 2; }

# KVM_RIG_BASE_DIR: a directory holding Image and base.cpio to use as they are (a CI cache, or a
# test's stand-in); otherwise build-rootfs.sh checks them against the current trixie packages.
if [[ -n "${KVM_RIG_BASE_DIR:-}" ]]; then
  base="$KVM_RIG_BASE_DIR"
  [[ -f "$base/Image" && -f "$base/base.cpio" ]] || { echo "run-in-rig: no Image/base.cpio in $base" >&2; exit 2; }
else
  base="$("$HERE/build-rootfs.sh" base)" || { echo "run-in-rig: building the base initramfs failed" >&2; exit 2; }
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kvm-rig.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The command as a shell script with every word quoted, so arguments survive the trip unchanged.
# KVM_RIG_GUEST_ENV="NAME=value ..." exports variables to the command (the guest sees none of
# the host's environment otherwise).
{
  echo '#!/bin/sh'
  for assignment in ${KVM_RIG_GUEST_ENV:-}; do
    [[ "$assignment" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] \
      || { echo "run-in-rig: KVM_RIG_GUEST_ENV entries are NAME=value: $assignment" >&2; exit 2; }
    printf 'export %s=%q\n' "${assignment%%=*}" "${assignment#*=}"
  done
  printf 'exec'; printf ' %q' "$@"; echo
} >"$work/cmd.sh" || exit 2
"$HERE/build-rootfs.sh" payload "$work/payload.cpio.gz" "$work/cmd.sh" \
  || { echo "run-in-rig: packing the payload failed" >&2; exit 2; }
cat "$base/base.cpio" "$work/payload.cpio.gz" >"$work/initrd"

mkdir -p "$(dirname "$logfile")"
: >"$logfile"
echo "run-in-rig: booting (timeout ${timeout_s}s, log $logfile)" >&2
start=$EPOCHREALTIME
set +e
# -nographic puts the serial console on stdio; stdin is /dev/null so nothing typed reaches the
# guest and QEMU's monitor escape cannot be triggered. tr drops the serial line's CRs.
timeout --kill-after=10 "$timeout_s" qemu-system-riscv64 \
  -machine virt -cpu rv64,h=true -smp "${KVM_RIG_SMP:-2}" -m "${KVM_RIG_MEM:-2G}" \
  -nographic -no-reboot \
  -kernel "$base/Image" -initrd "$work/initrd" \
  -append "console=ttyS0 rdinit=/init quiet panic=-1${KVM_RIG_KERNEL_ARGS:+ $KVM_RIG_KERNEL_ARGS}" </dev/null 2>&1 \
  | tr -d '\r' | tee -a "$logfile"
qemu_status=${PIPESTATUS[0]}
set -e
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

status="$(sed -n 's/.*KVM-RIG-EXIT \([0-9][0-9]*\).*/\1/p' "$logfile" | tail -n1)"
if [[ -z "$status" ]]; then
  if [[ "$qemu_status" == 124 || "$qemu_status" == 137 ]]; then
    echo "run-in-rig: timed out after ${timeout_s}s without a result from the guest" >&2
  else
    echo "run-in-rig: the guest ended (QEMU status $qemu_status) without reporting a result" >&2
  fi
  exit 124
fi
echo "run-in-rig: guest command exited $status after ${elapsed}s (QEMU status $qemu_status)" >&2
exit "$status"
