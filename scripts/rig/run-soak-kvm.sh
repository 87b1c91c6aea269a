#!/usr/bin/env bash
# The soak (soak/run.ts, `npm run soak`) against the KVM backend, on real KVM in the nested rig.
#
# The rig payload has dist/, guest/build, prebuilds/linux-riscv64 and node, but no esbuild or
# ts-loader, so soak/run.ts is transpiled here (esbuild, types stripped, not bundled) into
# .cache/soak-kvm/run.js with its two relative imports pointed at the payload's layout
# (../lib/ → ../../dist/lib/, ../guest/build/ → ../../guest/build/), and shipped with
# KVM_RIG_EXTRA. The rig runs `node --expose-gc run.js --backend kvm` with the arguments given here.
#
#   run-soak-kvm.sh [soak arguments...]     (default: --cycles 1000)
#
# Output: the soak's own lines (fds and RSS per report interval, the summary, "soak: ok" or
# "soak: FAILED"). Exit status: the soak's (0 ok, 1 leak or bad exit), 2 when it could not run.
# Environment: KVM_RIG_SKIP_BUILD=1, KVM_RIG_TIMEOUT (default 1800), and run-in-rig.sh's.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
OUT=.cache/soak-kvm
cd "$REPO" || exit 2

note() { echo "soak-kvm: $*" >&2; }
die() { note "FAILED: $*"; exit 2; }

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"

if [[ "${KVM_RIG_SKIP_BUILD:-}" != 1 ]]; then
  if ! up_to_date prebuilds/linux-riscv64/kvm_riscv.node native binding.gyp scripts/build-addon-riscv64.sh; then
    note "building the riscv64 addon"
    npm run -s build:addon:riscv64 >&2 || die "npm run build:addon:riscv64"
  fi
  if ! up_to_date dist/lib lib tsconfig.json package.json; then
    note "building dist (tsc)"
    npm run -s build >&2 || note "warning: tsc reported errors; using the emitted dist as it is"
  fi
  if [[ ! -f guest/build/srst.bin ]]; then
    note "building the test guests"
    npm run -s build:guest >&2 || die "npm run build:guest"
  fi
fi
for f in dist/lib/backend/kvm/index.js dist/lib/abi/regs.js prebuilds/linux-riscv64/kvm_riscv.node guest/build/srst.bin; do
  [[ -f "$f" ]] || die "$f is missing"
done

mkdir -p "$OUT"
node_modules/.bin/esbuild soak/run.ts --format=esm --platform=node --target=node20 --log-level=warning \
  --outfile="$OUT/run.js" || die "transpiling soak/run.ts"
sed -i -E -e "s#(['\"])\.\./lib/#\1../../dist/lib/#g" -e "s#(['\"])\.\./guest/build/#\1../../guest/build/#g" "$OUT/run.js"
# Every relative import must now point into the payload; a new one in soak/run.ts would not.
if grep -nE "['\"]\.\./" "$OUT/run.js" | grep -vE "['\"]\.\./\.\./(dist/lib|guest/build)/"; then
  die "soak/run.ts has a relative import this script does not map"
fi

args=("$@")
((${#args[@]})) || args=(--cycles 1000)
log="$RIG_CACHE/soak-kvm.log"
mkdir -p "$RIG_CACHE"
KVM_RIG_EXTRA="${KVM_RIG_EXTRA:-} $OUT" \
  "$HERE/run-in-rig.sh" --timeout "${KVM_RIG_TIMEOUT:-1800}" --log "$log" -- \
  node --expose-gc "/kvm-riscv/$OUT/run.js" --backend kvm "${args[@]}" >/dev/null
status=$?

lines="$(grep -aE '^(soak[:]|  kvm |FAIL )' "$log" | tr -d '\r')"
[[ -n "$lines" ]] || die "the rig printed no soak output (run-in-rig status $status; log $log)"
echo "$lines"
grep -aq '^soak: ok' <<<"$lines" && ((status == 0)) && exit 0
note "the soak exited $status (log $log)"
((status == 1)) && exit 1
exit 2
