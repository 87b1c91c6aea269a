#!/usr/bin/env bash
# Assembles guest.S into build/guest.elf with the Debian cross binutils (riscv64-linux-gnu-as/-ld,
# installed by scripts/setup.sh), linked at 0x80200000 (RAM + 2 MiB, where the VMM expects an
# S-mode payload).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$HERE/build"
riscv64-linux-gnu-as -march=rv64imac_zicsr -mabi=lp64 -o "$HERE/build/guest.o" "$HERE/guest.S"
riscv64-linux-gnu-ld -static -nostdlib --no-relax -e _start -Ttext=0x80200000 -o "$HERE/build/guest.elf" "$HERE/build/guest.o"
echo "$HERE/build/guest.elf"
