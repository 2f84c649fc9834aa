#!/usr/bin/env bash
# The packaging checks: the crate as crates.io would get it (`cargo package`), and the Debian
# package that `cargo deb` builds from it with the release profile: its control fields and file
# list, the man pages (gzipped, rendered without warnings) and the binary in it; then, as root,
# `dpkg -i`, `sockx --version`, `man -w sockx-probe`, a bash completion of `sockx pro` through
# the installed script, and `dpkg -r`. tests/run.sh runs it after the cargo tests when cargo-deb
# is there. A check that cannot run here says why and appends a `SKIPPED` line to
# "$SOCKX_SKIP_LOG" (when set), as the Rust tests do.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
checkout=$PWD
pkgid=$(cargo pkgid)
version=${pkgid##*[#@]}
work=$(mktemp -d "${TMPDIR:-/tmp}/sockx-package.XXXXXX")
installed=no

cleanup() {
  if [ "$installed" = yes ]; then
    dpkg_locked -r sockx >/dev/null || echo "package.sh: could not remove the sockx package" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "package.sh: FAILED: $*" >&2
  exit 1
}

skip() {
  echo "SKIPPED package.sh $1: $2"
  if [ -n "${SOCKX_SKIP_LOG:-}" ]; then
    echo "SKIPPED package.sh $1: $2" >>"$SOCKX_SKIP_LOG"
  fi
}

ok() {
  echo "package.sh: ok: $*"
}

# dpkg ARGS…, waiting (up to 5 minutes) while another install holds the dpkg lock.
dpkg_locked() {
  local out
  for _ in $(seq 60); do
    if out=$(dpkg "$@" 2>&1); then
      printf '%s\n' "$out"
      return 0
    fi
    if ! grep -qi 'lock' <<<"$out"; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    sleep 5
  done
  printf '%s\n' "$out" >&2
  return 1
}

# --- the crate: only what a user needs, and it builds from the packaged files alone ----------
if ! cargo package --list --locked --allow-dirty 2>"$work/cargo-package.err" | sort >"$work/crate-files"; then
  cat "$work/cargo-package.err" >&2
  fail "cargo package --list failed"
fi
for needed in Cargo.toml Cargo.lock README.md LICENSE src/main.rs completions/sockx.1; do
  grep -qx "$needed" "$work/crate-files" || fail "the crate lacks $needed"
done
if grep -vE '^(src/.*|completions/.*|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|README\.md|LICENSE|\.cargo_vcs_info\.json)$' "$work/crate-files"; then
  fail "the crate carries the files above; only src/, completions/, the manifest, README and LICENSE belong in it"
fi
cargo package --locked --allow-dirty --no-verify --quiet 2>"$work/cargo-package.err" ||
  { cat "$work/cargo-package.err" >&2; fail "cargo package failed"; }
# Unpacked with fresh mtimes: the archive's are all 2006, older than any earlier build's
# fingerprint, and cargo would take a stale binary for fresh.
tar -xzmf "target/package/sockx-$version.crate" -C "$work"
crate=$work/sockx-$version
ok "crate: $(wc -l <"$work/crate-files") files, no tests or benches"

# --- the Debian package ----------------------------------------------------------------------
if ! command -v dpkg-deb >/dev/null; then
  skip deb "dpkg-deb is not installed (not a Debian system)"
  exit 0
fi
# Built from the unpacked crate, so this also proves that the crate builds from its own files
# (what cargo package's verification does, without a second, debug build). Its own target dir:
# in the checkout's, the copy (same name, version and relative path) would take over the
# fingerprint of the checkout's binary, and edits to src/ would no longer rebuild it.
(cd "$crate" && CARGO_TARGET_DIR="$checkout/target/package-build" \
  cargo deb --locked --quiet --output "$work/sockx.deb" >/dev/null) ||
  fail "cargo deb (from the unpacked crate)"
deb=$work/sockx.deb

[ "$(dpkg-deb -f "$deb" Package)" = sockx ] || fail "Package is not sockx"
[ "$(dpkg-deb -f "$deb" Version)" = "$version-1" ] || fail "Version is not $version-1"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libc6* ]] || fail "Depends ('$depends') was not computed from the binary"
ok "control: sockx $version-1, Depends: $depends"

# Every file, and nothing else: the binary, the completions where bash-completion, zsh and fish
# look, each man page gzipped, the README and the copyright file with the licence.
{
  echo /usr/bin/sockx
  echo /usr/share/bash-completion/completions/sockx
  echo /usr/share/zsh/vendor-completions/_sockx
  echo /usr/share/fish/vendor_completions.d/sockx.fish
  for page in completions/*.1; do
    echo "/usr/share/man/man1/${page#completions/}.gz"
  done
  echo /usr/share/doc/sockx/README.md
  echo /usr/share/doc/sockx/copyright
} | sort >"$work/expected-files"
dpkg -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$work/deb-files"
diff -u "$work/expected-files" "$work/deb-files" || fail "the package's files differ (- expected, + in the .deb)"
grep -qx /usr/share/man/man1/sockx-probe.1.gz "$work/deb-files" || fail "no sockx-probe.1.gz"
ok "dpkg -c: $(wc -l <"$work/deb-files") files where they belong"

dpkg-deb -x "$deb" "$work/root"
[ "$("$work/root/usr/bin/sockx" --version)" = "sockx $version" ] || fail "the packaged binary's --version"
grep -q 'License: MIT' "$work/root/usr/share/doc/sockx/copyright" || fail "copyright lacks the licence"
for page in "$work"/root/usr/share/man/man1/*.1.gz; do
  gzip -t "$page" || fail "$page is not gzip"
  if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "man warns about ${page##*/}: $warnings"
  fi
done
ok "the packaged binary says sockx $version; the man pages are gzipped and render cleanly"

# --- installed: as a user on a fresh machine would get it ------------------------------------
if [ "$(id -u)" != 0 ]; then
  skip install "needs root for dpkg -i"
  exit 0
fi
if dpkg -s sockx 2>/dev/null | grep -q '^Status: install ok installed'; then
  skip install "a sockx package is installed already; not replacing it"
  exit 0
fi

# Debian's docker images tell dpkg to drop /usr/share/man and /usr/share/doc
# (path-exclude in /etc/dpkg/dpkg.cfg.d/). The last matching filter decides, as in dpkg.
dpkg_filters() {
  cat /etc/dpkg/dpkg.cfg.d/* /etc/dpkg/dpkg.cfg 2>/dev/null |
    sed -n 's/^[[:space:]]*\(path-\(in\|ex\)clude\)[[:space:]=][[:space:]]*\([^[:space:]]*\).*$/\1 \3/p'
}
dpkg_filters >"$work/dpkg-filters"
include=()
while read -r path; do
  verdict=path-include
  while read -r kind glob; do
    # shellcheck disable=SC2053 # $glob is a pattern, as dpkg reads it
    [[ $path == $glob ]] && verdict=$kind
  done <"$work/dpkg-filters"
  if [ "$verdict" = path-exclude ]; then
    include+=("--path-include=$path")
  fi
done <"$work/expected-files"
if ((${#include[@]})); then
  echo "package.sh: note: dpkg here is set to leave out ${#include[@]} of the package's files" \
    "(path-exclude in /etc/dpkg); installing them with --path-include so that the checks are real"
fi

installed=yes
dpkg_locked "${include[@]}" -i "$deb" >/dev/null || fail "dpkg -i"
while read -r path; do
  [ -e "$path" ] || fail "$path is not installed"
done <"$work/expected-files"
[ "$(/usr/bin/sockx --version)" = "sockx $version" ] || fail "/usr/bin/sockx --version"
ok "dpkg -i: every file installed; /usr/bin/sockx --version says sockx $version"

if command -v man >/dev/null; then
  found=$(env -i PATH=/usr/bin:/bin man -w sockx-probe) || fail "man -w sockx-probe found nothing"
  [ "$found" = /usr/share/man/man1/sockx-probe.1.gz ] || fail "man -w sockx-probe: $found"
  env -i PATH=/usr/bin:/bin MANWIDTH=80 man -P cat sockx-probe 2>/dev/null | grep -q 'sockx probe' ||
    fail "man sockx-probe does not show the page"
  ok "man -w sockx-probe: $found"
else
  skip man "man-db is not installed"
fi

if [ -r /usr/share/bash-completion/bash_completion ]; then
  # bash-completion's loader finds the script by the command's name, as on a user's Tab; only
  # /usr/share is searched, so the answer comes from the installed file.
  reply=$(env -i HOME="$work" PATH=/usr/bin:/bin XDG_DATA_DIRS=/usr/share bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    if declare -F _comp_load >/dev/null; then _comp_load sockx; else __load_completion sockx; fi
    spec=$(complete -p sockx) || exit 1
    function=$(sed -n "s/.* -F \([^ ]*\) .*/\1/p" <<<"$spec")
    COMP_WORDS=(sockx pro) COMP_CWORD=1 COMP_LINE="sockx pro" COMP_POINT=9
    "$function" sockx pro sockx
    printf "%s\n" "${COMPREPLY[@]}"') || fail "the installed bash completion did not load"
  [ "$reply" = probe ] || fail "bash completion of 'sockx pro' gave '$reply'"
  ok "bash completion of 'sockx pro' through the installed script: probe"
else
  skip bash-completion "the bash-completion package is not installed"
fi

dpkg_locked -r sockx >/dev/null || fail "dpkg -r"
installed=no
while read -r path; do
  [ ! -e "$path" ] || fail "$path is still there after dpkg -r"
done <"$work/expected-files"
ok "dpkg -r: every file removed"

echo "package.sh: all checks passed in $((SECONDS - started))s"
