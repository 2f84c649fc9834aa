#!/usr/bin/env bash
# The test command: installs what the tests need (when run as root on Debian), then runs the
# checks and the whole suite. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

needed=(iproute2 nftables lsof psmisc)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${needed[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing test dependencies: ${missing[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
      echo "warning: could not install ${missing[*]}; the tests that need them will say they are skipped" >&2
    fi
  fi
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
