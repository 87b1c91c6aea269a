#!/usr/bin/env bash
# Build the kvm_riscv addon with AddressSanitizer for this host, into .cache/asan/build/Release/
# (git-ignored), leaving build/ and prebuilds/ alone.
#
# The gyp file is generated from the real binding.gyp (same sources, same defines) with
# -fsanitize=address -fno-omit-frame-pointer -g -O1 added, so the sanitized build cannot drift from
# the shipped one. The result must be loaded by a node started with LD_PRELOAD of the same
# compiler's libasan (scripts/asan/run.sh does that): ASan's runtime has to come first in the
# process, and node itself is not sanitized.
#
# Prints the path of the built addon on stdout. Rebuilds only when native/ or binding.gyp changed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/.cache/asan"
ADDON="$OUT/build/Release/kvm_riscv.node"
cd "$REPO"

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"
if [[ "${ASAN_REBUILD:-}" != 1 ]] && up_to_date "$ADDON" native binding.gyp "$HERE/build.sh"; then
  echo "$ADDON"; exit 0
fi

mkdir -p "$OUT"
node - "$REPO/binding.gyp" "$OUT/binding.gyp" <<'JS'
// binding.gyp is JSON apart from its '#' comment lines.
const fs = require('node:fs');
const [src, dst] = process.argv.slice(2);
const gyp = JSON.parse(fs.readFileSync(src, 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n'));
const san = ['-fsanitize=address', '-fno-omit-frame-pointer', '-g', '-O1'];
for (const t of gyp.targets) {
  t.sources = t.sources.map((s) => `../../${s}`);
  t.cflags = [...(t.cflags ?? []), ...san];
  t.cflags_cc = [...(t.cflags_cc ?? []), ...san];
  t.ldflags = [...(t.ldflags ?? []), '-fsanitize=address'];
}
fs.writeFileSync(dst, JSON.stringify(gyp, null, 2) + '\n');
JS

# node-gyp ships with npm; the headers are the installed node's own (/usr/include/node).
GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$GYP" ]] || GYP="$(command -v node-gyp)" || { echo "asan build: node-gyp not found" >&2; exit 2; }
nodedir=()
[[ -f /usr/include/node/node_api.h ]] && nodedir=(--nodedir=/usr)
(cd "$OUT" && node "$GYP" rebuild "${nodedir[@]}" -j 2 >&2) || { echo "asan build: node-gyp failed" >&2; exit 2; }
[[ -f "$ADDON" ]] || { echo "asan build: $ADDON was not produced" >&2; exit 2; }
echo "$ADDON"
