import sys

# DuckDB imports pandas, if installed, the first time it binds a query parameter (to recognise
# pandas values), which costs half a second; this process hands it none and never uses pandas.
sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]

from results.cli import main  # noqa: E402

sys.exit(main())
