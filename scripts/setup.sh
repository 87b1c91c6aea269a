#!/usr/bin/env bash
# Set up a fresh Debian bookworm x86_64 (or riscv64) machine for kvm-riscv: the Debian packages the
# build, the guest programs and the nested real-KVM rig need, then the npm dependencies.
# Idempotent; runs as root (CI and the developers' machines are root), otherwise through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# qemu-system-misc: qemu-system-riscv64 for the nested KVM rig and the P2/P3 references.
# g++/binutils-riscv64-linux-gnu: cross-building the addon and assembling guest programs.
# cpio, xz-utils: building the rig's initramfs and unpacking kvm.ko.xz.
# device-tree-compiler: dtc, used by tests to check the generated device trees.
# debian-archive-keyring: verifies the trixie riscv64 packages the rig downloads.
PKGS=(qemu-system-misc g++-riscv64-linux-gnu binutils-riscv64-linux-gnu cpio xz-utils
      device-tree-compiler debian-archive-keyring file)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
