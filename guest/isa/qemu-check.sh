#!/usr/bin/env bash
# Cross-check of the ISA programs against QEMU's TCG CPU, without KVM or this project's code:
# builds them with QEMU_CONSOLE (every report is also printed on the legacy SBI console) and runs
# each under qemu-system-riscv64 -M virt with OpenSBI, which enters them in S-mode at 0x80200000.
# Usage: bash guest/isa/qemu-check.sh [name...]. The SBI expectations of isa-sbi are KVM's
# (impl id 3, ...), so that program reports failures under OpenSBI by design.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
OUT="$out" EXTRA_ASFLAGS="--defsym QEMU_CONSOLE=1" bash "$here/build.sh" >/dev/null
names=("$@")
if ((${#names[@]} == 0)); then
  for f in "$here"/*.S; do names+=("$(basename "$f" .S)"); done
fi
for n in "${names[@]}"; do
  echo "== isa-$n"
  timeout 60 qemu-system-riscv64 -M virt -cpu rv64 -m 256M -smp 1 -nographic -bios default \
    -kernel "$out/isa-$n.bin" 2>&1 | grep -a '^R' || echo "(no reports)"
done
