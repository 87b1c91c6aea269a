#!/usr/bin/env bash
# Cross-compiles the kvm_riscv addon for linux-riscv64 on an x86_64 Debian host.
#
#   bash scripts/build-addon-riscv64.sh        → prebuilds/linux-riscv64/kvm_riscv.node
#
# Ingredients (../shared/docs/rig.md "Parts"):
#   - riscv64-linux-gnu-g++ (Debian g++-riscv64-linux-gnu, GCC 12) with its bookworm glibc;
#   - Debian trixie's linux-libc-dev (Linux 6.12 uapi headers) FIRST on the include path: the
#     bookworm cross headers are 6.1 and lack KVM_IRQ_LINE for riscv, the AIA device, DBCN, ...;
#   - Debian trixie's libnode-dev (riscv64) as node-gyp's --nodedir (usr/include/node has
#     node_api.h, common.gypi and config.gypi, which is the layout node-gyp expects);
#   - npm's bundled node-gyp, with --arch=riscv64 and CC/CXX/LINK/AR pointing at the cross tools.
# Both .debs come from scripts/lib/trixie-apt.sh (private apt state, cached under .cache/trixie).
# The build happens in a staging copy under .cache/addon-riscv64 so a native build/ is untouched.
# -static-libstdc++ -static-libgcc leave libc as the only shared dependency; N-API is ABI-stable,
# so the result loads in any Node >= 20 on riscv64.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/addon-riscv64"
OUT_DIR="$ROOT/prebuilds/linux-riscv64"
CROSS=riscv64-linux-gnu
# ADDON_RISCV64_ASAN=1 (scripts/asan/build-riscv64.sh): an AddressSanitizer variant instead, staged
# in .cache/addon-riscv64-asan and written to .cache/asan-riscv64/kvm_riscv.node; prebuilds/ and
# the normal staging directory are left alone. Unset, nothing below changes.
ASAN_VARIANT="${ADDON_RISCV64_ASAN:-0}"
if [[ "$ASAN_VARIANT" == 1 ]]; then
  CACHE="$ROOT/.cache/addon-riscv64-asan"
  OUT_DIR="$ROOT/.cache/asan-riscv64"
fi

log() { echo "build-addon-riscv64: $*" >&2; }

for tool in "$CROSS-gcc" "$CROSS-g++" "$CROSS-ar" "$CROSS-readelf" dpkg file; do
  command -v "$tool" >/dev/null || { log "missing $tool (apt-get install g++-riscv64-linux-gnu binutils-riscv64-linux-gnu file)"; exit 1; }
done

# npm's bundled node-gyp: next to the npm that runs this node.
find_node_gyp() {
  local candidates=() npm_bin npm_dir
  candidates+=("$(npm prefix -g 2>/dev/null)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js")
  if npm_bin="$(command -v npm)"; then
    npm_dir="$(cd "$(dirname "$(readlink -f "$npm_bin")")/.." && pwd)"
    candidates+=("$npm_dir/node_modules/node-gyp/bin/node-gyp.js")
  fi
  candidates+=("$ROOT/node_modules/node-gyp/bin/node-gyp.js")
  local c
  for c in "${candidates[@]}"; do
    [[ -f "$c" ]] && { echo "$c"; return 0; }
  done
  log "node-gyp not found; tried: ${candidates[*]}"
  return 1
}
NODE_GYP="$(find_node_gyp)"

# One build at a time (the rig may call this script while someone else does): the staging
# directory below is shared.
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9

# shellcheck source=lib/trixie-apt.sh
source "$ROOT/scripts/lib/trixie-apt.sh"
mapfile -t DEBS < <(trixie_fetch linux-libc-dev libnode-dev)
((${#DEBS[@]} == 2)) || { log "could not fetch linux-libc-dev and libnode-dev from trixie"; exit 1; }

# Unpack each into its own root; redo it when the .deb changed (the stamp names the files).
UAPI_ROOT="$CACHE/uapi"
NODE_ROOT="$CACHE/node"
unpack_once() {
  local root="$1" deb="$2"
  if [[ "$(cat "$root.stamp" 2>/dev/null)" != "$(basename "$deb")" ]]; then
    rm -rf "$root"
    trixie_unpack "$root" "$deb"
    basename "$deb" >"$root.stamp"
  fi
}
for deb in "${DEBS[@]}"; do
  case "$(basename "$deb")" in
    linux-libc-dev_*) unpack_once "$UAPI_ROOT" "$deb" ;;
    libnode-dev_*) unpack_once "$NODE_ROOT" "$deb" ;;
  esac
done
# trixie's linux-libc-dev is Architecture: all; the per-arch asm/ headers live under
# usr/lib/linux/uapi/<arch> (usr/include/<triplet>/asm is populated only by its maintainer script).
UAPI_INCLUDE="$UAPI_ROOT/usr/include"
UAPI_ASM="$UAPI_ROOT/usr/lib/linux/uapi/riscv"
[[ -f "$UAPI_INCLUDE/linux/kvm.h" && -f "$UAPI_ASM/asm/kvm.h" ]] || { log "uapi headers missing under $UAPI_ROOT"; exit 1; }
[[ -f "$NODE_ROOT/usr/include/node/node_api.h" && -f "$NODE_ROOT/usr/include/node/common.gypi" ]] \
  || { log "node headers missing under $NODE_ROOT/usr/include/node"; exit 1; }

# Staging copy of the sources (binding.gyp finds node-addon-api through node_modules).
STAGE="$CACHE/src"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -r "$ROOT/binding.gyp" "$ROOT/native" "$STAGE/"
ln -s "$ROOT/node_modules" "$STAGE/node_modules"

export CC="$CROSS-gcc" CXX="$CROSS-g++" LINK="$CROSS-g++" AR="$CROSS-ar"
export CC_host=gcc CXX_host=g++ LINK_host=g++ AR_host=ar
# -isystem directories are searched before the compiler's own system directories, so these uapi
# headers win over the toolchain's 6.1 ones.
UAPI_FLAGS="-isystem $UAPI_INCLUDE -isystem $UAPI_ASM -DKVM_RISCV_REQUIRE_612_UAPI"
export CFLAGS="$UAPI_FLAGS" CXXFLAGS="$UAPI_FLAGS"
# -Bsymbolic: every reference from the addon to a symbol it defines binds to its own definition,
# so the static C++ runtime is used whole. Otherwise the libstdc++.so.6/libgcc_s.so.1 that node
# itself loads (trixie: GCC 14), and libraries exporting the same template instantiations (ICU),
# interpose half of it: a C++ exception ran in node's __cxa_throw and personality routine but this
# copy's _Unwind_Resume (hidden in libgcc_eh.a), and a worker terminated while constructing a
# handle aborted the whole process (found by scripts/rig/run-asan-kvm.sh); with the runtime hidden
# but not -Bsymbolic, std::call_once ran ICU's instantiation of its callback, which reads the other
# runtime's thread-local state (a NULL call). --exclude-libs,ALL: the runtime is not exported either.
# No exception or runtime object crosses the N-API boundary, so one private runtime is all it needs.
export LDFLAGS="-static-libstdc++ -static-libgcc -Wl,-Bsymbolic -Wl,--exclude-libs,ALL"
if [[ "$ASAN_VARIANT" == 1 ]]; then
  # shellcheck source=asan/riscv64-flags.sh
  source "$ROOT/scripts/asan/riscv64-flags.sh"
  export CFLAGS="$CFLAGS $ASAN_RISCV64_CFLAGS" CXXFLAGS="$CXXFLAGS $ASAN_RISCV64_CFLAGS" LDFLAGS="$LDFLAGS $ASAN_RISCV64_LDFLAGS"
fi

log "node-gyp ($NODE_GYP) --arch=riscv64 --nodedir=$NODE_ROOT/usr"
(
  cd "$STAGE"
  node "$NODE_GYP" rebuild --arch=riscv64 --nodedir="$NODE_ROOT/usr" -j 2 >&2
)

BUILT="$STAGE/build/Release/kvm_riscv.node"
[[ -f "$BUILT" ]] || { log "no $BUILT"; exit 1; }
desc="$(file -b "$BUILT")"
if [[ "$desc" != *"ELF 64-bit LSB shared object"* || "$desc" != *"RISC-V"* ]]; then
  log "built file is not a RISC-V ELF shared object: $desc"
  exit 1
fi
needed="$("$CROSS-readelf" -d "$BUILT" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $5); print $5 }' | sort | tr '\n' ' ')"
for lib in $needed; do
  case "$lib" in
    libc.so.6 | libm.so.6 | ld-linux-riscv64-lp64d.so.1) ;;
    libasan.so.8) [[ "$ASAN_VARIANT" == 1 ]] || { log "unexpected shared dependency $lib (wanted libc only)"; exit 1; } ;;
    *) log "unexpected shared dependency $lib (wanted libc only)"; exit 1 ;;
  esac
done

# Nothing of the C++ runtime may be exported (see LDFLAGS above).
leaked="$("$CROSS-readelf" --dyn-syms -W "$BUILT" | awk '$7 != "UND" && $8 ~ /^(__cxa_|__gxx_personality|_Unwind_)/ { print $8 }' | head -n 5 | tr '\n' ' ')"
[[ -z "$leaked" ]] || { log "the C++ runtime is exported: $leaked"; exit 1; }

mkdir -p "$OUT_DIR"
cp "$BUILT" "$OUT_DIR/kvm_riscv.node"
log "ok: $OUT_DIR/kvm_riscv.node ($desc; needs: ${needed:-nothing})"
echo "$OUT_DIR/kvm_riscv.node"
