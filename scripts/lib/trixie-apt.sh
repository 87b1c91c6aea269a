# shellcheck shell=bash
# Debian trixie riscv64 packages on any Debian host, without touching the host's apt state.
#
# Source this file, then:
#   trixie_mirror                      print the Debian mirror URL (from the host's own apt sources)
#   trixie_apt_update                  (re)build the private package lists if missing or stale
#   trixie_closure PKG...              print "name=version" for PKG... plus their Depends/Pre-Depends
#                                      closure (no Recommends/Suggests), as apt would install them
#   trixie_fetch PKG...                download PKG... alone (no dependencies); print the .deb paths
#   trixie_fetch_closure PKG...        download the closure of PKG...; print the .deb paths
#   trixie_unpack ROOT DEB...          dpkg -x each DEB into ROOT
#
# Why a private apt: the rig and the addon cross-build need trixie riscv64 files (kernel, node,
# uapi headers) on a bookworm amd64 host. apt gets its own sources list and state through -o
# options (apt.conf(5) Dir::* and APT::Architecture), so the host's configuration, package lists
# and dpkg status are never read or written. Everything is cached under $TRIXIE_CACHE
# (default <repo>/.cache/trixie): lists for a day, .deb files for good (they are content-addressed
# by name_version_arch).
#
# Environment: TRIXIE_CACHE (cache dir), TRIXIE_MIRROR (override the mirror URL),
# TRIXIE_LISTS_MAX_AGE_MIN (minutes before lists are refreshed; default 1440).

_trixie_repo_root() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  (cd "$here/../.." && pwd)
}

: "${TRIXIE_CACHE:=$(_trixie_repo_root)/.cache/trixie}"
: "${TRIXIE_LISTS_MAX_AGE_MIN:=1440}"
TRIXIE_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

_trixie_log() { echo "trixie-apt: $*" >&2; }

# The mirror is whatever the host's main Debian archive entry points at (not the security
# archive, which does not carry trixie main). Both the one-line format (sources.list(5)) and
# deb822 .sources files are read.
trixie_mirror() {
  if [[ -n "${TRIXIE_MIRROR:-}" ]]; then echo "${TRIXIE_MIRROR%/}"; return 0; fi
  local uri f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /^https?:\/\//) { print $i; break } }' "$f" \
      | grep -v -- '-security' | head -n1)"
    if [[ -n "$uri" ]]; then echo "${uri%/}"; return 0; fi
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    uri="$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) print $i }' "$f" \
      | grep -v -- '-security' | head -n1)"
    if [[ -n "$uri" ]]; then echo "${uri%/}"; return 0; fi
  done
  _trixie_log "no http(s) Debian mirror found in /etc/apt/sources.list{,.d/*}; set TRIXIE_MIRROR"
  return 1
}

# apt-get/apt-cache with the private state. Dir::State::status=/dev/null makes apt believe nothing
# is installed, so a simulated install resolves the full dependency closure.
_trixie_apt_opts() {
  local d="$TRIXIE_CACHE/apt"
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$d/sources.list" \
    -o "Dir::Etc::SourceParts=/dev/null" \
    -o "Dir::Etc::Preferences=/dev/null" \
    -o "Dir::Etc::PreferencesParts=/dev/null" \
    -o "Dir::State::Lists=$d/lists" \
    -o "Dir::State::status=/dev/null" \
    -o "Dir::Cache=$d/cache" \
    -o "APT::Architecture=riscv64" \
    -o "APT::Architectures=riscv64" \
    -o "APT::Sandbox::User=root" \
    -o "Debug::NoLocking=1"
}

_trixie_apt_get() {
  local -a opts; mapfile -t opts < <(_trixie_apt_opts)
  apt-get -q "${opts[@]}" "$@"
}

_trixie_apt_cache() {
  local -a opts; mapfile -t opts < <(_trixie_apt_opts)
  apt-cache "${opts[@]}" "$@"
}

trixie_apt_update() {
  local d="$TRIXIE_CACHE/apt" mirror
  mirror="$(trixie_mirror)" || return 1
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$TRIXIE_CACHE/debs"
  local line="deb [arch=riscv64 signed-by=$TRIXIE_KEYRING] $mirror trixie main"
  local stale=1
  if [[ -f "$d/sources.list" && "$(cat "$d/sources.list")" == "$line" ]] \
    && compgen -G "$d/lists/*_Packages*" >/dev/null \
    && [[ -z "$(find "$d/lists" -maxdepth 1 -name '*_InRelease' -mmin "+$TRIXIE_LISTS_MAX_AGE_MIN")" ]]; then
    stale=0
  fi
  [[ "$stale" == 0 && "${1:-}" != --force ]] && return 0
  echo "$line" >"$d/sources.list"
  _trixie_log "apt-get update (trixie riscv64 from $mirror)"
  _trixie_apt_get update >&2 || { _trixie_log "apt-get update failed"; return 1; }
  # apt leaves InRelease's mtime as the server's; touch it so the age check means "fetched at".
  find "$d/lists" -maxdepth 1 -name '*_InRelease' -exec touch {} +
}

# Resolve through a simulated install: unlike `apt-cache depends --recurse`, this picks one
# member of each "a | b" alternative, exactly as apt would on a real trixie system.
trixie_closure() {
  (($#)) || { _trixie_log "trixie_closure: no packages"; return 1; }
  trixie_apt_update || return 1
  local out
  out="$(_trixie_apt_get -s --no-install-recommends install "$@" 2>&1)" || {
    echo "$out" >&2; _trixie_log "cannot resolve: $*"; return 1; }
  # "Inst libfoo (1.2-3 Debian:13.2/stable [riscv64])"
  awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); print $2 "=" v }' <<<"$out"
}

# name=version... -> the file names apt-get download writes (name_version_arch.deb, ':' of an
# epoch written %3a), one per line in the order given. One apt-cache call for all of them: each
# call loads the whole package cache, which costs about a second.
_trixie_deb_names() {
  local records
  records="$(_trixie_apt_cache show "$@" 2>/dev/null \
    | awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
           /^$/ { if (p != "") print p "=" v " " a; p = "" } END { if (p != "") print p "=" v " " a }')"
  local spec arch ver
  for spec in "$@"; do
    arch="$(awk -v s="$spec" '$1 == s { print $2; exit }' <<<"$records")"
    [[ -n "$arch" ]] || { _trixie_log "no package record for $spec"; return 1; }
    ver="${spec#*=}"
    echo "${spec%%=*}_${ver//:/%3a}_${arch}.deb"
  done
}

# Download name=version specs not yet in the cache; print the paths of all of them.
_trixie_download_specs() {
  local debs="$TRIXIE_CACHE/debs" i
  local -a missing=() names=()
  mkdir -p "$debs"
  mapfile -t names < <(_trixie_deb_names "$@")
  ((${#names[@]} == $#)) || return 1
  local -a specs=("$@")
  for i in "${!specs[@]}"; do
    [[ -s "$debs/${names[$i]}" ]] || missing+=("${specs[$i]}")
  done
  if ((${#missing[@]})); then
    _trixie_log "downloading ${#missing[@]} package(s): ${missing[*]%%=*}"
    (cd "$debs" && _trixie_apt_get download "${missing[@]}" >&2) || {
      _trixie_log "apt-get download failed"; return 1; }
  fi
  for i in "${!names[@]}"; do
    [[ -s "$debs/${names[$i]}" ]] || { _trixie_log "missing after download: $debs/${names[$i]}"; return 1; }
    echo "$debs/${names[$i]}"
  done
}

# Packages by name, without dependencies (e.g. the kernel image, whose initramfs-tools closure the
# rig does not need). Virtual names such as linux-image-riscv64 are resolved through their
# Depends to the real package by the caller.
trixie_fetch() {
  (($#)) || { _trixie_log "trixie_fetch: no packages"; return 1; }
  trixie_apt_update || return 1
  local p ver
  local -a specs=() bare=()
  for p in "$@"; do [[ "$p" == *=* ]] || bare+=("$p"); done
  local candidates=""
  if ((${#bare[@]})); then
    # The candidate version of each bare name, from one apt-cache call.
    candidates="$(_trixie_apt_cache policy "${bare[@]}" 2>/dev/null \
      | awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0 } /^  Candidate:/ { print p " " $2 }')"
  fi
  for p in "$@"; do
    if [[ "$p" == *=* ]]; then specs+=("$p"); continue; fi
    ver="$(awk -v p="$p" '$1 == p { print $2; exit }' <<<"$candidates")"
    [[ -n "$ver" && "$ver" != "(none)" ]] || { _trixie_log "no such package in trixie riscv64: $p"; return 1; }
    specs+=("$p=$ver")
  done
  _trixie_download_specs "${specs[@]}"
}

trixie_fetch_closure() {
  local -a specs
  mapfile -t specs < <(trixie_closure "$@") || return 1
  ((${#specs[@]})) || { _trixie_log "empty closure for: $*"; return 1; }
  _trixie_download_specs "${specs[@]}"
}

# Print the direct Depends of a package (first alternative of each), e.g. to follow the
# linux-image-riscv64 metapackage to linux-image-<abi>-riscv64.
trixie_depends() {
  trixie_apt_update || return 1
  _trixie_apt_cache show --no-all-versions "$1" | awk -F': ' '/^Depends:/ { print $2; exit }' \
    | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*//; s/^ +//; s/ +$//' | sed '/^$/d'
}

trixie_unpack() {
  local root="$1"; shift
  mkdir -p "$root"
  local deb
  for deb in "$@"; do
    dpkg -x "$deb" "$root" || { _trixie_log "dpkg -x failed: $deb"; return 1; }
  done
}
