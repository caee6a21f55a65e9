#!/usr/bin/env bash
# Production: Debian's nginx in front of the app, in the foreground; Ctrl-C or SIGTERM stops both.
#   scripts/serve-production.sh [--port 8080] [--db PATH|URL] [--listen 0.0.0.0]
#                               [--processes N] [--postgres [--postgres-dir DIR]]
# Several app processes (--processes N) share a PostgreSQL database: --db postgresql://… or
# --postgres, which starts a local server from Debian's packages in /var/lib/sipas/postgres.
# nginx answers only the host name of SIPAS_BASE_URL (set it to the public address, e.g.
# https://sipas.example.gov.vn); the app listens on 127.0.0.1 only. nginx runs with its own
# configuration, pid, temp and log files in data/front/ (SIPAS_DATA_DIR), never the system's.
# Installs what is missing (the virtual environment, nginx) on first use.
need_postgres=0
for arg in "$@"; do [ "$arg" = "--postgres" ] && need_postgres=1; done
SIPAS_NEED_NGINX=1 SIPAS_NEED_POSTGRES=$need_postgres source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ -z "${SIPAS_BASE_URL:-}" ]; then
  port=8080
  args=("$@")
  for i in "${!args[@]}"; do [ "${args[$i]}" = "--port" ] && port="${args[$((i + 1))]:-8080}"; done
  export SIPAS_BASE_URL="http://localhost:$port"
  echo "→ SIPAS_BASE_URL is not set: links and the allowed host name use $SIPAS_BASE_URL"
fi
exec python -m survey_app production "$@"
