#!/bin/sh
# Runs inside the rig (scripts/rig/run-bench-p1.sh boots it): the C reference first, then the JS
# bench on the same guest binary in the same boot, handing it the C figure. Each result is one line
# starting with "P1-RESULT " so the host can pick them out of the console.
#
#   in-rig.sh C_CALLS JS_CALLS [REPEATS]
set -u
c_calls="${1:-20000}"
js_calls="${2:-20000}"
repeats="${3:-3}"
dir=/kvm-riscv/bench/build/p1
bin="$dir/p1-loop.bin"

# The C figure is the best of REPEATS runs (the least disturbed by the rest of the rig); so are the
# JS figures, so the ratio compares like with like.
best=""
i=0
while [ "$i" -lt "$repeats" ]; do
  line="$("$dir/c-reference" "$bin" "$c_calls")" || { echo "P1-RESULT {\"error\":\"c-reference failed\"}"; exit 1; }
  echo "P1-RESULT $line"
  us="$(echo "$line" | sed -n 's/.*"us_per_exit":\([0-9.]*\).*/\1/p')"
  if [ -z "$best" ] || awk -v a="$us" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$us"; fi
  i=$((i + 1))
done
echo "P1-RESULT {\"path\":\"c\",\"best_us_per_exit\":$best}"
node /kvm-riscv/bench/p1-sbi-roundtrip.mjs "$bin" "$js_calls" "$best" "$repeats" | sed 's/^/P1-RESULT /'
