#!/usr/bin/env bash
# npm run bench:p1 — P1 (project issue 2): the round trip of an experimental-range SBI call
# (EID 0x08000000) through a JS handler and back into the guest, on real KVM in the nested rig,
# against a minimal C VMM (bench/p1/c-reference.c) running the same guest loop in the same boot.
#
# Builds (into bench/build/p1, git-ignored): the guest loop bench/guest/p1-loop.S as a flat binary,
# and the C reference, static, with riscv64-linux-gnu-gcc -O2. Builds the addon and dist like
# `npm run test:kvm` when they are stale. Boots the rig once (scripts/rig/run-in-rig.sh, shipping
# the bench through KVM_RIG_EXTRA) and runs bench/p1/in-rig.sh there: C first, then
# bench/p1-sbi-roundtrip.mjs with the C figure.
#
# Output: every result line (one JSON object per line), and as the LAST line the JSON object for
# the fastest JS path with every path's ratio:
#   {"metric":"P1","path":"...","us_per_exit":..,"c_us_per_exit":..,"ratio":..,"paths":{...}}
# Exit status: 0 when the bench ran (whatever the ratio), non-zero when it could not run.
#
# Environment: P1_C_CALLS (default 4000), P1_JS_CALLS (default 2000), P1_REPEATS (rounds, every path
# once per round interleaved with C,
# best kept; default 5), P1_TOUCH_PAGES (space-separated page counts for diagnostic C runs that touch
# memory between exits, see c-reference.c), KVM_RIG_SKIP_BUILD=1, KVM_RIG_TIMEOUT (default 1200), and run-in-rig.sh's.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
OUT=bench/build/p1
CROSS=riscv64-linux-gnu
cd "$REPO" || exit 2

note() { echo "bench-p1: $*" >&2; }
die() { note "FAILED: $*"; exit 2; }

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"

for tool in "$CROSS-as" "$CROSS-ld" "$CROSS-objcopy" "$CROSS-gcc"; do
  command -v "$tool" >/dev/null || die "missing $tool (scripts/setup.sh installs binutils-/g++-riscv64-linux-gnu)"
done

mkdir -p "$OUT"
# The guest: RV64I only, no compressed instructions (the loop must be the same bytes everywhere).
"$CROSS-as" -march=rv64i -mabi=lp64 -o "$OUT/p1-loop.o" bench/guest/p1-loop.S || die "assembling p1-loop.S"
"$CROSS-ld" -T bench/guest/link.ld -o "$OUT/p1-loop.elf" "$OUT/p1-loop.o" || die "linking p1-loop"
"$CROSS-objcopy" -O binary "$OUT/p1-loop.elf" "$OUT/p1-loop.bin" || die "objcopy p1-loop"
"$CROSS-gcc" -O2 -static -Wall -o "$OUT/c-reference" bench/p1/c-reference.c || die "building c-reference"
cp bench/p1/in-rig.sh "$OUT/in-rig.sh"

if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 ]]; then
  addon=prebuilds/linux-riscv64/kvm_riscv.node
  if ! up_to_date "$addon" native binding.gyp scripts/build-addon-riscv64.sh; then
    note "building the riscv64 addon"
    npm run -s build:addon:riscv64 >&2 || die "npm run build:addon:riscv64"
  fi
  if ! up_to_date dist/lib lib tsconfig.json package.json; then
    note "building dist (tsc)"
    # Other parts of lib/ may be mid-edit; what the bench needs is the KVM backend's output.
    npm run -s build >&2 || note "warning: tsc reported errors; using the emitted dist as it is"
  fi
fi
[[ -f dist/lib/backend/kvm/index.js ]] || die "dist/lib/backend/kvm/index.js is missing (npm run build)"
[[ -f prebuilds/linux-riscv64/kvm_riscv.node ]] || die "the riscv64 addon is missing (npm run build:addon:riscv64)"

log="$RIG_CACHE/bench-p1.log"
KVM_RIG_EXTRA="${KVM_RIG_EXTRA:-} $OUT bench/p1-sbi-roundtrip.mjs" \
  "$HERE/run-in-rig.sh" --timeout "${KVM_RIG_TIMEOUT:-1200}" --log "$log" -- \
  sh /kvm-riscv/$OUT/in-rig.sh "${P1_C_CALLS:-4000}" "${P1_JS_CALLS:-2000}" "${P1_REPEATS:-5}" ${P1_TOUCH_PAGES:-} >&2
status=$?

results="$(grep -a '^P1-RESULT ' "$log" | sed 's/^P1-RESULT //')"
[[ -n "$results" ]] || die "the rig printed no results (run-in-rig status $status; log $log)"
echo "$results"
((status == 0)) || die "the in-rig bench exited $status (log $log)"
last="$(tail -n1 <<<"$results")"
[[ "$last" == *'"metric":"P1"'* ]] || die "the bench's last line is not the P1 summary (log $log)"
