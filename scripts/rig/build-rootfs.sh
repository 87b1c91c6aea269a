#!/usr/bin/env bash
# Build the rig's boot files: a Debian trixie riscv64 kernel and an initramfs in two parts.
#
#   build-rootfs.sh base
#       Ensure .cache/rig/base/{Image,base.cpio} exist and match the current trixie packages.
#       base.cpio is an *uncompressed* newc archive (the kernel unpacks it fastest, see
#       /work/shared docs rig.md): busybox-static, nodejs and its library closure, kvm.ko.
#       Prints the directory holding Image and base.cpio.
#   build-rootfs.sh payload OUT.cpio.gz CMD.sh
#       Pack the project payload as a gzip newc archive to append after base.cpio: /init, and a
#       repo-like tree /kvm-riscv/{package.json,dist,guest/build,prebuilds,test/rig-bundle} (the last
#       from .cache/rig/bundle, see bundle-tests.mjs) with
#       CMD.sh as /kvm-riscv/.rig/cmd.sh (the command /init runs), and whatever repo-relative
#       paths KVM_RIG_EXTRA lists (space-separated). Parts missing from the work tree are left
#       out with a warning; the in-guest tests say what they lack.
#
# The kernel accepts concatenated cpio archives, later files replacing earlier ones
# (Documentation/driver-api/early-userspace/buffer-format.rst), which is why the slow-to-build
# base is cached and the payload is rebuilt on every run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib/trixie-apt.sh
source "$REPO/scripts/lib/trixie-apt.sh"

RIG_CACHE="${RIG_CACHE:-$REPO/.cache/rig}"
# Bump when the recipe below changes in a way that must invalidate cached bases.
BASE_RECIPE=2
GUEST_PACKAGES=(busybox-static nodejs)

log() { echo "build-rootfs: $*" >&2; }

# newc archive of a staging dir, owned by root, in a stable order.
pack_dir() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

# Merged /usr (trixie is merged-/usr-only): the dynamic loader is looked up as
# /lib/ld-linux-riscv64-lp64d.so.1, /bin/sh as /bin/sh. Anything a package put in a top-level
# dir moves under usr/ first.
merge_usr() {
  local root="$1" d
  for d in lib bin sbin; do
    if [[ -d "$root/$d" && ! -L "$root/$d" ]]; then
      mkdir -p "$root/usr/$d"
      cp -a "$root/$d/." "$root/usr/$d/"
      rm -rf "${root:?}/$d"
    fi
    mkdir -p "$root/usr/$d"
    ln -sfn "usr/$d" "$root/$d"
  done
}

build_base() {
  local kernel_pkg abi key out="$RIG_CACHE/base"
  # A base checked against the package lists recently is used without asking apt again (resolving
  # costs seconds); after TRIXIE_LISTS_MAX_AGE_MIN the lists are refreshed and the base rechecked.
  if [[ -s "$out/base.cpio" && -s "$out/Image" && -f "$out/key" \
    && -z "$(find "$out/key" -mmin "+$TRIXIE_LISTS_MAX_AGE_MIN")" && "${RIG_BASE_RECHECK:-}" != 1 ]] \
    && grep -q "^recipe=$BASE_RECIPE " "$out/key"; then
    echo "$out"; return 0
  fi
  kernel_pkg="$(trixie_depends linux-image-riscv64 | grep -m1 '^linux-image-')" \
    || { log "cannot find the kernel behind linux-image-riscv64"; return 1; }
  local -a specs
  mapfile -t specs < <(trixie_closure "${GUEST_PACKAGES[@]}")
  ((${#specs[@]})) || { log "empty package closure"; return 1; }
  key="recipe=$BASE_RECIPE kernel=$kernel_pkg ${specs[*]}"
  if [[ -s "$out/base.cpio" && -s "$out/Image" && "$(cat "$out/key" 2>/dev/null)" == "$key" ]]; then
    touch "$out/key"
    echo "$out"; return 0
  fi
  log "building base initramfs (${#specs[@]} packages + $kernel_pkg)"
  local -a debs kdeb
  mapfile -t debs < <(trixie_fetch_closure "${GUEST_PACKAGES[@]}")
  mapfile -t kdeb < <(trixie_fetch "$kernel_pkg")
  ((${#debs[@]} && ${#kdeb[@]})) || { log "download failed"; return 1; }

  local work="$RIG_CACHE/base.tmp"
  rm -rf "$work"; mkdir -p "$work/root" "$work/kernel"
  local root="$work/root"
  trixie_unpack "$root" "${debs[@]}"

  # Only two files of the kernel package are needed; its initramfs-tools dependency closure is not.
  dpkg-deb --fsys-tarfile "${kdeb[0]}" \
    | tar -x -C "$work/kernel" --wildcards './boot/vmlinux-*' './usr/lib/modules/*/kernel/arch/riscv/kvm/kvm.ko.xz'
  local image; image="$(ls "$work/kernel/boot/"vmlinux-*)"
  abi="${image##*/vmlinux-}"
  # rig.md: /boot/vmlinux-* is a raw RISC-V Image (magic "RSC\x05" at offset 0x38), bootable as is.
  [[ "$(dd if="$image" bs=1 skip=56 count=3 status=none)" == RSC ]] \
    || { log "$image is not a RISC-V Image"; return 1; }
  mkdir -p "$root/usr/lib/modules/$abi"
  xz -dc "$work/kernel/usr/lib/modules/$abi/kernel/arch/riscv/kvm/kvm.ko.xz" >"$root/usr/lib/modules/$abi/kvm.ko"

  merge_usr "$root"
  ln -sfn busybox "$root/usr/bin/sh"
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" \
    "$root/usr/share/locale" "$root/usr/share/bug"
  mkdir -p "$root"/{dev,proc,sys,tmp,run,root,etc}
  chmod 1777 "$root/tmp"
  # The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  echo "$abi" >"$root/etc/kvm-rig-kernel"

  pack_dir "$root" >"$work/base.cpio"
  cp "$image" "$work/Image"
  echo "$key" >"$work/key"
  rm -rf "$out"; mkdir -p "$out"
  mv "$work/Image" "$work/base.cpio" "$work/key" "$out/"
  rm -rf "$work"
  log "base: $(du -h "$out/base.cpio" | cut -f1) cpio, kernel $abi"
  echo "$out"
}

build_payload() {
  local out="$1" cmd="$2"
  [[ -r "$cmd" ]] || { log "no command script: $cmd"; return 1; }
  local stage; stage="$(mktemp -d "${TMPDIR:-/tmp}/kvm-rig-payload.XXXXXX")"
  trap 'rm -rf "$stage"' RETURN
  local dst="$stage/kvm-riscv"
  mkdir -p "$dst/.rig"
  install -m 755 "$HERE/init.sh" "$stage/init"
  install -m 755 "$cmd" "$dst/.rig/cmd.sh"
  cp "$REPO/package.json" "$dst/"
  # <payload path>=<source>: the test bundle is built into the cache, the rest lives in the tree.
  local entry part src
  for entry in dist=dist guest/build=guest/build prebuilds/linux-riscv64=prebuilds/linux-riscv64 \
    test/rig-bundle="${RIG_BUNDLE_DIR:-$RIG_CACHE/bundle}"; do
    part="${entry%%=*}"; src="${entry#*=}"
    [[ "$src" == /* ]] || src="$REPO/$src"
    if [[ -d "$src" ]]; then
      mkdir -p "$dst/$(dirname "$part")"
      cp -a "$src" "$dst/$part"
    else
      log "warning: ${src#"$REPO"/} not built; the payload goes without it"
    fi
  done
  # KVM_RIG_EXTRA: more repo-relative files or dirs to ship at the same place under /kvm-riscv
  # (e.g. a benchmark's scripts and cross-built binaries).
  local extra
  for extra in ${KVM_RIG_EXTRA:-}; do
    if [[ "$extra" == /* || "/$extra/" == */../* ]]; then
      log "KVM_RIG_EXTRA entries are paths inside the repo: $extra"; return 1
    fi
    [[ -e "$REPO/$extra" ]] || { log "KVM_RIG_EXTRA: $extra does not exist"; return 1; }
    mkdir -p "$dst/$(dirname "$extra")"
    cp -a "$REPO/$extra" "$dst/$extra"
  done
  pack_dir "$stage" | gzip -1 >"$out"
}

case "${1:-}" in
  base) build_base ;;
  payload) [[ $# == 3 ]] || { echo "usage: $0 payload OUT.cpio.gz CMD.sh" >&2; exit 2; }; build_payload "$2" "$3" ;;
  *) echo "usage: $0 base | payload OUT.cpio.gz CMD.sh" >&2; exit 2 ;;
esac
