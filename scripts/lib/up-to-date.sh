# shellcheck shell=bash
# Freshness checks for the build steps of the rig, bench and ASan scripts: rebuild only when a
# source is newer than what was built from it. Source this file; it defines two functions.

# newest PATH...: the latest modification time (epoch seconds) of any file under the paths, or
# nothing when there is none.
newest() { find "$@" -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -n1; }

# up_to_date TARGET SOURCE...: true when TARGET (a file or a tree) exists and its newest file is at
# least as new as every file under the SOURCEs; sources that do not exist count as nothing newer.
up_to_date() {
  local target="$1"; shift
  local built sources
  built="$(newest "$target")"
  [[ -n "$built" ]] || return 1
  sources="$(newest "$@")"
  [[ -z "$sources" ]] || awk -v b="$built" -v s="$sources" 'BEGIN { exit !(b >= s) }'
}
