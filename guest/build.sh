#!/usr/bin/env bash
# Builds every guest program: guest/src/<name>.S -> guest/build/<name>.elf and <name>.bin (flat
# image to load at 0x80200000). Needs Debian's binutils-riscv64-linux-gnu (scripts/setup.sh).
# CROSS overrides the tool prefix (default riscv64-linux-gnu-).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cross="${CROSS:-riscv64-linux-gnu-}"
out="$here/build"
mkdir -p "$out"
for tool in as ld objcopy; do
  if ! command -v "${cross}${tool}" >/dev/null 2>&1; then
    echo "guest/build.sh: ${cross}${tool} not found (apt-get install binutils-riscv64-linux-gnu)" >&2
    exit 1
  fi
done
tmp="$(mktemp -d "$out/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
count=0
for src in "$here"/src/*.S; do
  name="$(basename "$src" .S)"
  # rv64imac: the C extension is there for the explicit c.* instructions the MMIO test uses;
  # common.S turns automatic compression off.
  "${cross}as" -march=rv64imac_zicsr_zifencei -mabi=lp64 -I "$here/include" \
    -o "$tmp/$name.o" "$src"
  "${cross}ld" -nostdlib -static --no-warn-rwx-segments -T "$here/link.ld" -o "$tmp/$name.elf" "$tmp/$name.o"
  "${cross}objcopy" -O binary "$tmp/$name.elf" "$tmp/$name.bin"
  # rename() is atomic: test processes that build on demand in parallel never see half a file.
  mv -f "$tmp/$name.elf" "$out/$name.elf"
  mv -f "$tmp/$name.bin" "$out/$name.bin"
  count=$((count + 1))
done
echo "guest/build.sh: built $count programs into $out"
# The self-checking ISA programs (guest/isa, rv64gc) -> guest/build/isa-<name>.{elf,bin}.
if [[ -f "$here/isa/build.sh" ]]; then bash "$here/isa/build.sh"; fi
