#!/usr/bin/env bash
# The Debian packages some tests need: a real PostgreSQL server (postgresql) and a headless
# browser (chromium). `make test` runs this first. As root with apt it installs whatever is
# missing; otherwise it names what is missing and those tests skip themselves, each with a
# line naming the package. Under CI (CI=true) a missing package is an error, never a skip.
set -uo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages for the tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "Could not install: ${missing[*]}" >&2
else
  echo "Not root with apt: the tests that need ${missing[*]} will be skipped." >&2
fi
[ "${CI:-}" = "true" ] && { echo "CI needs ${missing[*]}; refusing to skip those tests." >&2; exit 1; }
exit 0
