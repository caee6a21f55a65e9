#!/usr/bin/env bash
# Start the app on the embedded default: data/sipas.duckdb (created, with demo data when empty),
# Streamlit on http://localhost:8501. Extra arguments go to `python -m survey_app serve`.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec python -m survey_app serve "$@"
