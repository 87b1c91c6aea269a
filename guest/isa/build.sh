#!/usr/bin/env bash
# Builds the self-checking ISA programs: guest/isa/<name>.S -> guest/build/isa-<name>.elf and
# isa-<name>.bin (flat image loaded at 0x80200000, like guest/src). Called by guest/build.sh.
# rv64gc: the programs test every RV64GC instruction; common.S keeps automatic compression off,
# so c.* forms appear only where written. -mno-relax keeps the trap handler's alignment exact
# after c.* code. CROSS overrides the tool prefix; EXTRA_ASFLAGS and OUT (output directory) are
# for qemu-check.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cross="${CROSS:-riscv64-linux-gnu-}"
out="${OUT:-$here/../build}"
mkdir -p "$out"
tmp="$(mktemp -d "$out/.tmp-isa.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
count=0
for src in "$here"/*.S; do
  name="isa-$(basename "$src" .S)"
  # shellcheck disable=SC2086
  "${cross}as" -march=rv64gc_zicsr_zifencei -mabi=lp64d -mno-relax -I "$here/../include" -I "$here" \
    ${EXTRA_ASFLAGS:-} -o "$tmp/$name.o" "$src"
  "${cross}ld" -nostdlib -static --no-warn-rwx-segments -T "$here/../link.ld" -o "$tmp/$name.elf" "$tmp/$name.o"
  "${cross}objcopy" -O binary "$tmp/$name.elf" "$tmp/$name.bin"
  mv -f "$tmp/$name.elf" "$out/$name.elf"
  mv -f "$tmp/$name.bin" "$out/$name.bin"
  count=$((count + 1))
done
echo "guest/isa/build.sh: built $count programs into $out"
