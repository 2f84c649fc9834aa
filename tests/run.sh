#!/usr/bin/env bash
# The test command: installs what the tests need (when run as root on Debian), then runs the
# checks and the whole suite, and says how many tests were skipped and why. CI (.ci/run) calls
# exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive as real peers or fixtures; one a line.
needed=(
  iproute2
  nftables
  lsof
  psmisc
  netcat-openbsd
  socat
  python3
  dante-server
  tinyproxy
  curl
  nginx-light
  redis-server
  dnsmasq
  chrony
  snmpd
  memcached
  openssl
  ncat
  python3-aiosmtpd
  python3-pyftpdlib
  python3-openssl
  dovecot-imapd
  dovecot-pop3d
  postgresql
  prometheus
  man-db
  bash-completion
)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${needed[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "installing test dependencies: ${missing[*]}"
    if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "warning: could not install ${missing[*]}; the tests that need them will say they are skipped" >&2
    fi
  fi
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings

# Every skipped test appends its reason here (tests/common: skip()).
export SOCKX_SKIP_LOG="$PWD/target/skipped.log"
mkdir -p target
: >"$SOCKX_SKIP_LOG"
status=0
cargo test --locked || status=$?

# The packaging checks (tests/package.sh): the crate's file list and the Debian package that
# cargo-deb builds from the release build, installed and removed again as root.
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb (cargo install cargo-deb --locked)"
  install_started=$SECONDS
  if cargo install cargo-deb --locked --quiet >target/cargo-deb-install.log 2>&1; then
    echo "cargo-deb installed in $((SECONDS - install_started))s"
  else
    tail -5 target/cargo-deb-install.log >&2
  fi
fi
if cargo deb --version >/dev/null 2>&1; then
  package_started=$SECONDS
  tests/package.sh || status=$?
  echo "tests/package.sh took $((SECONDS - package_started))s"
else
  echo "SKIPPED package.sh: cargo-deb is not installed and 'cargo install cargo-deb --locked' failed" |
    tee -a "$SOCKX_SKIP_LOG"
fi

skipped=$(grep -c '^SKIPPED' "$SOCKX_SKIP_LOG" || true)
echo "skipped: $skipped test(s)"
if [ "$skipped" != 0 ]; then
  sed 's/^/  /' "$SOCKX_SKIP_LOG"
fi
exit "$status"
