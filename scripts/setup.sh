#!/usr/bin/env bash
# Sourced by run.sh and test.sh: a virtual environment in .venv with requirements.txt installed.
# Re-installs only when requirements.txt changed, so later runs start at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "→ creating the virtual environment in .venv"
  "$PYTHON_BIN" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "→ installing Python packages from requirements.txt"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt"
  echo "$want" > "$stamp"
fi

# System packages: Debian's Chromium for browser tests (never a Playwright download), fonts with
# Vietnamese diacritics for posters and reports, poppler to render PDFs in tests, nginx for the
# production front (scripts/serve-production.sh) and its browser test, PostgreSQL for the store's
# tests on its second backend.
need_apt() {
  local missing=()
  [ "${SIPAS_NEED_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ] && missing+=(chromium)
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  { [ "${SIPAS_NEED_BROWSER:-0}" = 1 ] || [ "${SIPAS_NEED_NGINX:-0}" = 1 ]; } && [ ! -x /usr/sbin/nginx ] \
    && missing+=(nginx)
  [ "${SIPAS_NEED_BROWSER:-0}" = 1 ] && ! command -v pdftoppm >/dev/null && missing+=(poppler-utils)
  # Phones show the rating faces with their own emoji font; give the test browser one too.
  [ "${SIPAS_NEED_BROWSER:-0}" = 1 ] && [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] \
    && missing+=(fonts-noto-color-emoji)
  # The store's contract tests also run against a real PostgreSQL server they start themselves.
  [ "${SIPAS_NEED_POSTGRES:-0}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    && missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "→ installing system packages: ${missing[*]}"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
need_apt
export PATH="$VENV/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cd "$ROOT"
