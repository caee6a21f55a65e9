"""The nginx configuration of the production front (survey_app.front), checked by nginx itself."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from survey_app import front


def test_the_public_host_comes_from_the_base_url() -> None:
    assert front.public_host("https://sipas.hanoi.gov.vn/") == "sipas.hanoi.gov.vn"
    assert front.public_host("http://127.0.0.1:8080") == "127.0.0.1"
    with pytest.raises(ValueError, match="SIPAS_BASE_URL"):
        front.public_host("sipas")


def test_several_app_processes_make_one_upstream_that_nginx_accepts(tmp_path: Path) -> None:
    if not Path(front.NGINX).exists():
        pytest.fail(f"{front.NGINX} is missing: scripts/setup.sh installs Debian's nginx")
    plan = front.FrontPlan(8080, (8501, 8502, 8503), "sipas.example.vn", tmp_path, tmp_path)
    text = front.nginx_config(plan)
    assert [line.strip() for line in text.splitlines() if line.strip().startswith("server 127.")] == [
        "server 127.0.0.1:8501;", "server 127.0.0.1:8502;", "server 127.0.0.1:8503;"]
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    checked = subprocess.run([front.NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e",
                              str(tmp_path / "error.log")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "/etc/nginx/nginx.conf" not in checked.stderr  # its own configuration, never the system's


def test_the_static_copy_is_compressed_without_the_icon_font_preload_and_leaves_the_package_alone(
        tmp_path: Path) -> None:
    package_script = next(front.streamlit_static_dir().glob("static/js/index.*.js"))
    before = package_script.read_bytes()
    static = front.precompressed_static(tmp_path)
    served = static / "static" / "js" / package_script.name
    assert front.ICON_FONT_PRELOAD.search(before.decode())  # what Streamlit 1.67 ships
    assert not front.ICON_FONT_PRELOAD.search(served.read_text())
    assert package_script.read_bytes() == before  # the copy's hard links were never written through
    assert gzip.decompress(served.with_name(served.name + ".gz").read_bytes()) == served.read_bytes()
    assert (static / "index.html.gz").exists() and not list(static.rglob("*.woff2.gz"))
