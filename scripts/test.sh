#!/usr/bin/env bash
# The whole test suite: lint, then every test (unit, AppTest pages, Playwright in Debian's Chromium).
# Extra arguments go to pytest (e.g. scripts/test.sh -k links).
SIPAS_NEED_BROWSER=1 SIPAS_NEED_POSTGRES=1 source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ruff check .
exec python -m pytest "$@"
