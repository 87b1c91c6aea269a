#!/usr/bin/env bash
# npm run test:asan — the addon misuse checks (scripts/asan/misuse.cjs) against an AddressSanitizer
# build of the addon (scripts/asan/build.sh) on this host's /dev/kvm.
#
# node is not sanitized, so the ASan runtime is preloaded (LD_PRELOAD of the compiler's libasan)
# and its link-order check is off. Leak detection is off: V8 and Node keep allocations until exit
# by design, and LeakSanitizer reports them all; fd and memory leaks are the soak's job (npm run
# soak). Every report goes to a file under .cache/asan/reports (log_path: one file per process, so
# child processes and workers count too); pass = the checks pass AND no report file exists.
# allow_user_segv_handler=0: node installs a SIGSEGV handler of its own, which would otherwise
# replace ASan's and turn a wild access into a bare exit status 139 with no report (seen in the
# rig); handle_abort=1 reports an abort() with its stack.
#
# Exit status: 0 pass, 1 a check failed or ASan reported, 2 could not run (no /dev/kvm, no build).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO" || exit 2

if [[ "$(uname -s)" != Linux ]] || ! { exec 3<>/dev/kvm; } 2>/dev/null; then
  echo "asan: /dev/kvm is not usable here; nothing to test" >&2
  exit 2
fi
exec 3>&-

mkdir -p .cache/asan
addon="$(bash "$HERE/build.sh" 2>.cache/asan/build.log)" || { tail -n 30 .cache/asan/build.log >&2; echo "asan: the ASan build failed (.cache/asan/build.log)" >&2; exit 2; }
# A build without the instrumentation would pass vacuously.
[[ "$(nm -D "$addon")" == *" __asan_init"* ]] || { echo "asan: $addon is not instrumented" >&2; exit 2; }
libasan="$(${CXX:-g++} -print-file-name=libasan.so)"
[[ -f "$libasan" ]] || { echo "asan: libasan.so not found for ${CXX:-g++}" >&2; exit 2; }

reports="$REPO/.cache/asan/reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1:allow_user_segv_handler=0:handle_abort=1:log_path=$reports/asan:${ASAN_OPTIONS_EXTRA:-}"

t0=$SECONDS
MISUSE_EXPECT_ASAN=1 LD_PRELOAD="$libasan" timeout --kill-after=10 "${ASAN_TIMEOUT:-180}" node --expose-gc "$HERE/misuse.cjs" "$addon"
status=$?

shopt -s nullglob
files=("$reports"/asan*)
count=0
for f in "${files[@]}"; do
  n="$(grep -c 'ERROR: AddressSanitizer' "$f")"
  ((count += n > 0 ? n : 1))
  echo "---- $f" >&2
  head -n 60 "$f" >&2
done
echo "asan: misuse checks exit $status; AddressSanitizer reports: $count (${#files[@]} report files); $((SECONDS - t0)) s"
if ((status == 0 && count == 0)); then
  echo "asan: PASS"
  exit 0
fi
echo "asan: FAIL"
exit 1
