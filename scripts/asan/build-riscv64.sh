#!/usr/bin/env bash
# Cross-build the kvm_riscv addon for linux-riscv64 with AddressSanitizer, plus the ASan runtime
# the rig preloads, into .cache/asan-riscv64/ (git-ignored; prebuilds/ is left alone):
#
#   .cache/asan-riscv64/kvm_riscv.node     scripts/build-addon-riscv64.sh with ADDON_RISCV64_ASAN=1
#   .cache/asan-riscv64/lib/libasan.so.8   from Debian trixie's libasan8 (riscv64), the one built
#                                          against the rig's own glibc
#   .cache/asan-riscv64/canary.so          scripts/asan/canary.c with the same flags: a heap
#                                          overflow the run must see reported
#
# Why trixie's runtime with bookworm's GCC 12 compiler: the instrumented code only calls the
# runtime's stable entry points (__asan_init, __asan_version_mismatch_check_v8, __asan_loadN,
# __asan_storeN, __asan_register_globals), which both GCC 12 and 14 provide as ABI v8. What differs
# is the riscv64 shadow offset GCC 12 inlines (1<<29) from the one every riscv64 libasan.so.8 maps
# (0xd55550000), which is why build-addon-riscv64.sh turns inline checks off for this variant; this
# script refuses a build that still has the GCC 12 offset in it, and a runtime that maps elsewhere.
#
# Prints the directory on stdout. Rebuilds only when native/, binding.gyp or a build script changed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/.cache/asan-riscv64"
ADDON="$OUT/kvm_riscv.node"
RUNTIME="$OUT/lib/libasan.so.8"
CANARY="$OUT/canary.so"
CROSS=riscv64-linux-gnu
cd "$REPO"

log() { echo "asan-riscv64 build: $*" >&2; }

# shellcheck source=../lib/up-to-date.sh
source "$REPO/scripts/lib/up-to-date.sh"
if [[ -f "$RUNTIME" && -f "$CANARY" && "${ASAN_REBUILD:-}" != 1 ]] \
  && up_to_date "$ADDON" native binding.gyp "$HERE/build-riscv64.sh" "$HERE/riscv64-flags.sh" "$HERE/canary.c" scripts/build-addon-riscv64.sh; then
  echo "$OUT"; exit 0
fi

ADDON_RISCV64_ASAN=1 bash scripts/build-addon-riscv64.sh >/dev/null || { log "the cross build failed"; exit 2; }
[[ -f "$ADDON" ]] || { log "$ADDON was not produced"; exit 2; }

# An uninstrumented build would pass vacuously.
[[ "$("$CROSS-nm" -D "$ADDON")" == *" U __asan_init"* ]] || { log "$ADDON is not instrumented"; exit 2; }
# GCC 12's riscv64 shadow offset is 0x20000000: `lui rX,0x20000` next to the shift of an address.
# None may be left (an inline check would read the wrong shadow: false reports, or a SEGV).
disasm="$("$CROSS-objdump" -d --no-show-raw-insn "$ADDON")"
if grep -qE 'lui\s+[a-z0-9]+,0x20000$' <<<"$disasm"; then
  log "$ADDON still has inline shadow checks at GCC 12's riscv64 offset (1<<29); see riscv64-flags.sh"
  exit 2
fi

# shellcheck source=riscv64-flags.sh
source "$HERE/riscv64-flags.sh"
# shellcheck disable=SC2086 # the flag lists are meant to split
"$CROSS-gcc" $ASAN_RISCV64_CFLAGS -shared -fPIC -o "$CANARY" "$HERE/canary.c" $ASAN_RISCV64_LDFLAGS \
  || { log "building the canary failed"; exit 2; }

# The runtime: trixie's libasan8, unpacked once per version (its dependencies, libc6 and
# libgcc-s1, are already in the rig's base image through nodejs).
# shellcheck source=../lib/trixie-apt.sh
source "$REPO/scripts/lib/trixie-apt.sh"
mapfile -t debs < <(trixie_fetch libasan8)
deb="${debs[0]:-}"
[[ -f "$deb" ]] || { log "could not fetch libasan8 (riscv64) from trixie"; exit 2; }
if [[ "$(cat "$OUT/lib/.stamp" 2>/dev/null)" != "$(basename "$deb")" ]]; then
  tmp="$(mktemp -d)"
  trixie_unpack "$tmp" "$deb"
  so="$(find "$tmp" -name 'libasan.so.8.*' -type f -print -quit)"
  [[ -n "$so" ]] || { rm -rf "$tmp"; log "no libasan.so.8 in $deb"; exit 2; }
  mkdir -p "$OUT/lib"
  cp "$so" "$RUNTIME"
  basename "$deb" >"$OUT/lib/.stamp"
  rm -rf "$tmp"
fi
# The runtime's own shadow offset: __asan_address_is_poisoned loads 0xd5555 << 16 = 0xd55550000
# (lui 0xd5; addi 1365; slli 16).
# (awk reads to the end: exiting early would SIGPIPE objdump, a failure under pipefail.)
poisoned="$("$CROSS-objdump" -d --no-show-raw-insn "$RUNTIME" | awk '/<__asan_address_is_poisoned>:/ { p = 1; next } p && /^$/ { p = 0 } p')"
grep -qE 'lui\s+[a-z0-9]+,0xd5$' <<<"$poisoned" || { log "$RUNTIME does not map its shadow at 0xd55550000"; exit 2; }
touch "$ADDON"
echo "$OUT"
