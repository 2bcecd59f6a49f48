#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, then
# checks formatting, lints, and runs every test (unit, integration against
# a real docker-registry, CLI). A missing program fails the run; nothing skips.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v openssl >/dev/null || missing+=(openssl)
# The serve page tests drive Debian's chromium through chromedriver.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v docker-registry >/dev/null || { echo "docker-registry is required: apt-get install docker-registry" >&2; exit 1; }
[ -x /usr/bin/chromedriver ] || { echo "chromium is required: apt-get install chromium chromium-driver" >&2; exit 1; }

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
deploy/validate.sh   # cronjob.yaml and deploy/serve.yaml against the Kubernetes schemas
cargo build --examples
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Every test binary (unit tests of the library and the binary, the
# integration binary, doc tests), all of them even when one fails, so the
# log shows every failure; the totals line is printed either way and the
# exit status is non-zero when anything failed or nothing ran.
status=0
cargo test --no-fail-fast 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log" || status=1
exit "$status"
