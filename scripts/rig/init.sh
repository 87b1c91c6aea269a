#!/bin/sh
# /init of the rig's initramfs (busybox sh, PID 1). Mounts the kernel filesystems, loads kvm.ko,
# runs /kvm-riscv/.rig/cmd.sh and reports its exit status on the console as
#   KVM-RIG-EXIT <status>
# which scripts/rig/run-in-rig.sh waits for; then powers off (QEMU runs with -no-reboot, so the
# machine ends either way).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/usr/bin/busybox --install -s 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

abi="$(cat /etc/kvm-rig-kernel)"
if insmod "/usr/lib/modules/$abi/kvm.ko"; then
  echo "kvm-rig: kvm.ko loaded ($abi)"
else
  echo "kvm-rig: insmod kvm.ko failed"
fi
echo "kvm-rig: booted in $(cut -d' ' -f1 /proc/uptime) s, $(grep -c ^processor /proc/cpuinfo) harts"

# The console is a tty, so node would colour its output; the log is read by scripts.
export HOME=/root KVM_RIG=1 KVM_RISCV_ROOT=/kvm-riscv TERM=dumb NO_COLOR=1 NODE_DISABLE_COLORS=1
cd /kvm-riscv && sh /kvm-riscv/.rig/cmd.sh
status=$?
echo "KVM-RIG-EXIT $status"
sync
poweroff -f
