# shellcheck shell=bash
# The compiler flags of the riscv64 AddressSanitizer build, in one place: sourced by
# scripts/build-addon-riscv64.sh (ADDON_RISCV64_ASAN=1) for the addon and by
# scripts/asan/build-riscv64.sh for the canary that proves they detect a bug.
#
# GCC 12 (bookworm's riscv64-linux-gnu-gcc) inlines riscv64 shadow checks at offset 1<<29, while
# every riscv64 libasan.so.8 (GCC 12's own, and trixie's GCC 14 one the rig loads) maps its shadow
# at 0xd55550000, LLVM's riscv64 layout that GCC 13 adopted; -fasan-shadow-offset is refused
# outside -fsanitize=kernel-address. So nothing may be inlined: with a call threshold of 0 every
# load and store is checked by __asan_loadN/__asan_storeN inside the runtime, which uses its own
# offset. Stack redzones and use-after-scope/use-after-return are poisoned by inline shadow stores,
# so those are off: heap overflows, use-after-free, double free and global overflows are checked.
# scripts/asan/build-riscv64.sh refuses a build that still has the 1<<29 constant in it.
ASAN_RISCV64_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1 --param asan-instrumentation-with-call-threshold=0 --param asan-stack=0 --param asan-use-after-return=0 -fno-sanitize-address-use-after-scope"
ASAN_RISCV64_LDFLAGS="-fsanitize=address"
