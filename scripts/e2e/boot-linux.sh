#!/usr/bin/env bash
# Boot Debian trixie's riscv64 Linux on the default backend (KVM on a riscv64 host with /dev/kvm,
# the emulator everywhere else): builds the kernel, initramfs and disk with build-initramfs.sh if
# needed (cached in .cache/e2e), then runs `kvm-riscv run` with them. The guest's /init prints its
# markers, asks for a line on the console (type one, or wait 10 s), reads /dev/vda and powers off.
#
#   scripts/e2e/boot-linux.sh [extra kvm-riscv run flags...]     e.g. --backend emulator --smp 2
#
# Ctrl-A x quits. The kvm-riscv run exit status is this script's.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(bash "$HERE/build-initramfs.sh")"

# The built CLI (package.json "bin") when there is one (npm run build), else the TypeScript sources
# through the loader.
if [[ -f "$REPO/dist/cli/kvm-riscv.cjs" && "${KVM_RISCV_FROM_SOURCE:-}" != 1 ]]; then
  MAIN="$REPO/dist/cli/kvm-riscv.cjs"
  LOADER=()
else
  MAIN="$REPO/lib/cli/main.ts"
  LOADER=(--import "$REPO/scripts/ts-loader.mjs")
fi
# With the node flags of the bin's "#!/usr/bin/env -S node <flags>" line, as an installed kvm-riscv.
read -r -a FLAGS <<< "$(sed -n '1s|^#!/usr/bin/env -S node||p' "$MAIN")"
CLI=(node "${FLAGS[@]}" "${LOADER[@]}" "$MAIN")

exec "${CLI[@]}" run \
  --kernel "$OUT/Image" \
  --initrd "$OUT/initramfs.cpio" \
  --disk "$OUT/disk.img,ro" \
  -m 256M \
  --append "console=ttyS0 earlycon=sbi quiet cryptomgr.notests" \
  "$@"
