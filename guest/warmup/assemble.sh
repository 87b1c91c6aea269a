#!/usr/bin/env bash
# Assembles guest/warmup/warmup.S into a flat image (loaded at 0x80200000) at the path given as $1.
# Used by scripts/gen-warmup-image.mjs (which checks the result in as
# lib/backend/emulator/warmup-image.ts) and by test/emulator/warmup-image.test.ts (which checks the
# checked-in bytes still equal the source). Needs Debian's binutils-riscv64-linux-gnu
# (scripts/setup.sh); CROSS overrides the tool prefix. Same flags as guest/isa/build.sh: rv64gc for
# the F/D and c.* instructions, -mno-relax so the layout is exactly what the source says.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cross="${CROSS:-riscv64-linux-gnu-}"
out="${1:?usage: assemble.sh OUT.bin}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${cross}as" -march=rv64gc_zicsr_zifencei -mabi=lp64d -mno-relax -I "$here/../include" \
  -o "$tmp/warmup.o" "$here/warmup.S"
"${cross}ld" -nostdlib -static --no-warn-rwx-segments -T "$here/../link.ld" -o "$tmp/warmup.elf" "$tmp/warmup.o"
"${cross}objcopy" -O binary "$tmp/warmup.elf" "$out"
