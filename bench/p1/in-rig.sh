#!/bin/sh
# Runs inside the rig (scripts/rig/run-bench-p1.sh boots it): the C reference first, then the JS
# bench on the same guest binary in the same boot, handing it the C figure and the C binary (the
# JS bench runs C again in each of its rounds, interleaved with the JS paths, so both see the same
# load). Each result is one line starting with "P1-RESULT " so the host can pick them out of the
# console.
#
#   in-rig.sh C_CALLS JS_CALLS [REPEATS] [TOUCH_PAGES...]
#
# TOUCH_PAGES (diagnostic): page counts for extra C runs that read that many pages after each exit
# (see c-reference.c), showing what touching memory between exits costs in this rig.
set -u
c_calls="${1:-20000}"
js_calls="${2:-20000}"
repeats="${3:-3}"
shift 3 2>/dev/null || shift $#
dir=/kvm-riscv/bench/build/p1
bin="$dir/p1-loop.bin"

line="$("$dir/c-reference" "$bin" "$c_calls")" || { echo "P1-RESULT {\"error\":\"c-reference failed\"}"; exit 1; }
echo "P1-RESULT $line"
us="$(echo "$line" | sed -n 's/.*"us_per_exit":\([0-9.]*\).*/\1/p')"
P1_C_REFERENCE="$dir/c-reference" P1_C_CALLS="$c_calls" \
  node /kvm-riscv/bench/p1-sbi-roundtrip.mjs "$bin" "$js_calls" "$us" "$repeats" >"$dir/out.txt"
status=$?
for pages in "$@"; do
  echo "P1-RESULT $("$dir/c-reference" "$bin" "$c_calls" "$pages")"
done
sed 's/^/P1-RESULT /' "$dir/out.txt"
exit "$status"
