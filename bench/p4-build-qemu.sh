#!/usr/bin/env bash
# Build the P4 reference VMM: Debian trixie's riscv64 qemu-system-riscv64 (package
# qemu-system-riscv, --no-install-recommends closure through scripts/lib/trixie-apt.sh) pruned to
# what `-machine virt -accel kvm -nographic -bios none -kernel ...` needs inside the rig:
#
#   p4-build-qemu.sh [OUT_DIR]      (default <repo>/.cache/p4-qemu; prints OUT_DIR on stdout)
#
# OUT_DIR gets:
#   bin/qemu-system-riscv64   the binary as Debian ships it
#   lib/*.so*                 every shared library it needs, followed through DT_NEEDED, except
#                             glibc's own (libc, libm, the loader...): the rig's base already has
#                             glibc from the nodejs closure, and a libc must match the loader that
#                             runs it, so the rig's pair is used. Run with LD_LIBRARY_PATH=OUT_DIR/lib.
#   key                       the package versions it came from; a matching key means no rebuild
#
# No firmware or data files: with -bios none and -nic none QEMU loads no ROM (KVM's in-kernel SBI is
# the firmware, as it is for kvm-riscv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=../scripts/lib/trixie-apt.sh
source "$REPO/scripts/lib/trixie-apt.sh"

OUT="${1:-$REPO/.cache/p4-qemu}"
RECIPE=1
PACKAGE=qemu-system-riscv
# glibc's libraries stay the rig's (see above).
GLIBC_RE='^(ld-linux-riscv64-lp64d\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libresolv\.so\.2|libanl\.so\.1|libutil\.so\.1)$'

log() { echo "p4-build-qemu: $*" >&2; }

if [[ -x "$OUT/bin/qemu-system-riscv64" && -f "$OUT/key" ]] && grep -q "^recipe=$RECIPE " "$OUT/key" \
  && [[ -z "$(find "$OUT/key" -mmin "+$TRIXIE_LISTS_MAX_AGE_MIN")" ]]; then
  echo "$OUT"; exit 0
fi

mapfile -t specs < <(trixie_closure "$PACKAGE")
((${#specs[@]})) || { log "cannot resolve $PACKAGE"; exit 1; }
key="recipe=$RECIPE ${specs[*]}"
if [[ -x "$OUT/bin/qemu-system-riscv64" && "$(cat "$OUT/key" 2>/dev/null)" == "$key" ]]; then
  touch "$OUT/key"; echo "$OUT"; exit 0
fi

log "building from ${#specs[@]} packages (${PACKAGE} and its closure)"
mapfile -t debs < <(trixie_fetch_closure "$PACKAGE")
((${#debs[@]})) || { log "download failed"; exit 1; }

work="$OUT.tmp"
rm -rf "$work"; mkdir -p "$work/root" "$work/out/bin" "$work/out/lib"
trixie_unpack "$work/root" "${debs[@]}"
root="$work/root"
qemu="$root/usr/bin/qemu-system-riscv64"
[[ -x "$qemu" ]] || { log "$PACKAGE has no usr/bin/qemu-system-riscv64"; exit 1; }

# Where a library soname lives in the unpacked closure (multiarch dir first).
find_lib() {
  local name="$1" d
  for d in usr/lib/riscv64-linux-gnu lib/riscv64-linux-gnu usr/lib lib; do
    if [[ -e "$root/$d/$name" ]]; then echo "$root/$d/$name"; return 0; fi
  done
  return 1
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# Breadth-first over DT_NEEDED from the binary.
declare -A seen=()
queue=("$qemu")
while ((${#queue[@]})); do
  file="${queue[0]}"; queue=("${queue[@]:1}")
  while read -r name; do
    [[ -n "$name" && -z "${seen[$name]:-}" ]] || continue
    seen[$name]=1
    [[ "$name" =~ $GLIBC_RE ]] && continue
    path="$(find_lib "$name")" || { log "$name (needed by ${file##*/}) is not in the closure"; exit 1; }
    cp -L "$path" "$work/out/lib/$name"
    queue+=("$path")
  done < <(needed "$file")
done
cp "$qemu" "$work/out/bin/"
echo "$key" >"$work/out/key"
rm -rf "$OUT"; mv "$work/out" "$OUT"; rm -rf "$work"
log "$(ls "$OUT/lib" | wc -l) libraries, $(du -sh "$OUT" | cut -f1) in $OUT"
echo "$OUT"
