#!/usr/bin/env bash
# Build the end-to-end Linux guest: Debian trixie's riscv64 kernel, a small initramfs and a raw disk.
#
#   build-initramfs.sh [OUT_DIR]        (default <repo>/.cache/e2e; prints OUT_DIR on stdout)
#
# OUT_DIR gets:
#   Image            the kernel (/boot/vmlinux-* of linux-image-<abi>-riscv64: a raw RISC-V Image,
#                    Documentation/arch/riscv/boot-image-header.rst)
#   initramfs.cpio   an uncompressed newc archive (Documentation/driver-api/early-userspace/
#                    buffer-format.rst; uncompressed unpacks fastest, rig.md): busybox-static,
#                    virtio_mmio.ko + virtio_blk.ko (modules in Debian's config) and /init below
#   disk.img         a 64 KiB raw disk whose first sector starts with DISK_TEXT (no filesystem)
#   key              what it was built from; a matching key means nothing is rebuilt
#
# /init prints "KVM-RISCV-E2E: init running" and the number of online harts, writes a prompt and reads one console line (10 s at
# most) and echoes it back, loads the virtio modules, prints the first 31 bytes of /dev/vda, then
# powers off with `poweroff -f` (Linux calls SBI SRST system_reset when the firmware has it,
# arch/riscv/kernel/sbi.c). With `e2e.reboot` on the kernel command line it runs `reboot -f` right
# after the first marker instead (the reboot-path test). With `e2e.hvc` it loads virtio_mmio (Debian
# builds virtio_console in, CONFIG_VIRTIO_CONSOLE=y, but its transport is a module), then prompts,
# reads one line and echoes it on /dev/hvc0, the virtio console, and powers off (the
# `--console virtio` test).
#
# Packages come from scripts/lib/trixie-apt.sh, whose cache (.cache/trixie) the rig shares: the
# kernel package is the same one the rig boots.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib/trixie-apt.sh
source "$REPO/scripts/lib/trixie-apt.sh"

OUT="${1:-$REPO/.cache/e2e}"
# Bump when the recipe below changes.
RECIPE=7
DISK_TEXT="kvm-riscv e2e disk: sector zero"

log() { echo "build-initramfs: $*" >&2; }

# A key already written less than the lists' max age ago is trusted without asking apt again.
if [[ -s "$OUT/Image" && -s "$OUT/initramfs.cpio" && -s "$OUT/disk.img" && -f "$OUT/key" ]] \
  && grep -q "^recipe=$RECIPE " "$OUT/key" && [[ -z "$(find "$OUT/key" -mmin "+$TRIXIE_LISTS_MAX_AGE_MIN")" ]]; then
  echo "$OUT"; exit 0
fi

kernel_pkg="$(trixie_depends linux-image-riscv64 | grep -m1 '^linux-image-')" \
  || { log "cannot find the kernel behind linux-image-riscv64"; exit 1; }
mapfile -t bb < <(trixie_closure busybox-static)
key="recipe=$RECIPE kernel=$kernel_pkg ${bb[*]}"
if [[ -s "$OUT/Image" && -s "$OUT/initramfs.cpio" && -s "$OUT/disk.img" && "$(cat "$OUT/key" 2>/dev/null)" == "$key" ]]; then
  touch "$OUT/key"; echo "$OUT"; exit 0
fi

log "building from $kernel_pkg and busybox-static"
mapfile -t kdeb < <(trixie_fetch "$kernel_pkg")
mapfile -t bdeb < <(trixie_fetch busybox-static)
((${#kdeb[@]} && ${#bdeb[@]})) || { log "download failed"; exit 1; }

work="$OUT.tmp"
rm -rf "$work"; mkdir -p "$work/kernel" "$work/root"
dpkg-deb --fsys-tarfile "${kdeb[0]}" | tar -x -C "$work/kernel" --wildcards './boot/vmlinux-*' \
  './usr/lib/modules/*/kernel/drivers/virtio/virtio_mmio.ko.xz' \
  './usr/lib/modules/*/kernel/drivers/block/virtio_blk.ko.xz'
image="$(ls "$work/kernel/boot/"vmlinux-*)"
[[ "$(dd if="$image" bs=1 skip=56 count=3 status=none)" == RSC ]] || { log "$image is not a RISC-V Image"; exit 1; }

root="$work/root"
dpkg -x "${bdeb[0]}" "$work/bb"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$work/bb/usr/bin/busybox" "$root/bin/busybox"
for applet in sh mount echo cat head dd insmod poweroff reboot sleep grep read; do
  ln -sf busybox "$root/bin/$applet"
done
for m in virtio_mmio virtio_blk; do
  xz -dc "$(find "$work/kernel/usr/lib/modules" -name "$m.ko.xz")" >"$root/lib/modules/$m.ko"
done
# The kernel opens /dev/console for init's stdio before /init can mount devtmpfs; making the node
# needs root, so without it /init reopens its stdio on devtmpfs's console instead.
if [[ $EUID -eq 0 ]]; then mknod -m 600 "$root/dev/console" c 5 1; fi

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec 0</dev/console 1>/dev/console 2>&1
echo "KVM-RISCV-E2E: init running"
if grep -q e2e.reboot /proc/cmdline; then
  echo "KVM-RISCV-E2E: rebooting"
  reboot -f
  sleep 5
fi
if grep -q e2e.hvc /proc/cmdline; then
  insmod /lib/modules/virtio_mmio.ko
  n=0
  while [ ! -c /dev/hvc0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if [ -c /dev/hvc0 ]; then
    # One open for prompt and answer: a line typed while no one holds the tty open is dropped
    # when it is opened again.
    exec 3<>/dev/hvc0
    echo "KVM-RISCV-E2E: hvc0 type a line:" >&3
    if read -t 10 -r line <&3; then echo "KVM-RISCV-E2E: hvc0 read [$line]" >&3; else echo "KVM-RISCV-E2E: hvc0 read failed"; fi
    exec 3>&-
  else
    echo "KVM-RISCV-E2E: no /dev/hvc0"
  fi
  echo "KVM-RISCV-E2E: powering off"
  poweroff -f
  sleep 5
fi
echo "KVM-RISCV-E2E: cpus $(grep -c ^processor /proc/cpuinfo)"
echo "KVM-RISCV-E2E: type a line:"
if read -t 10 -r line; then echo "KVM-RISCV-E2E: console read [$line]"; else echo "KVM-RISCV-E2E: console read failed"; fi
insmod /lib/modules/virtio_mmio.ko
insmod /lib/modules/virtio_blk.ko
n=0
while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ -b /dev/vda ]; then
  echo "KVM-RISCV-E2E: disk [$(head -c 31 /dev/vda)]"
else
  echo "KVM-RISCV-E2E: no /dev/vda"
fi
echo "KVM-RISCV-E2E: powering off"
poweroff -f
sleep 5
echo "KVM-RISCV-E2E: still running after poweroff"
INIT
chmod 755 "$root/init"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/initramfs.cpio"
cp "$image" "$work/Image"
# Sector 0 holds DISK_TEXT, the rest is zeros.
head -c 65536 /dev/zero >"$work/disk.img"
printf '%s' "$DISK_TEXT" | dd of="$work/disk.img" conv=notrunc status=none
echo "$key" >"$work/key"
rm -rf "$OUT"; mkdir -p "$OUT"
mv "$work/Image" "$work/initramfs.cpio" "$work/disk.img" "$work/key" "$OUT/"
rm -rf "$work"
log "$(du -h "$OUT/initramfs.cpio" | cut -f1) initramfs, kernel ${image##*/vmlinux-}"
echo "$OUT"
