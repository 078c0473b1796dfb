"""`mediamon serve` as users start it: the installed command, a fresh embedded SQLite store, no
secret key, the API token from the environment."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.support.cli import clean_env, console_script
from tests.support.net import free_port

TOKEN = "serve-test-token"


def test_serve_runs_the_dashboard_and_api_on_the_embedded_store(tmp_path: Path):
    port = free_port()
    env = clean_env(MEDIAMON_DATABASE_URL=f"sqlite:///{tmp_path / 'mediamon.db'}", MEDIAMON_API_TOKEN=TOKEN)
    server = subprocess.Popen(
        [*console_script(), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                health = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "mediamon serve did not answer"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["database"] == "reachable"
        overview = httpx.get(f"{base}/")
        assert overview.status_code == 200 and "<svg" in overview.text, "an empty store still draws"
        feed = {"url": "https://www.dawn.com/feeds/home"}
        assert httpx.post(f"{base}/api/feeds", json=feed).status_code == 401
        added = httpx.post(f"{base}/api/feeds", json=feed, headers={"Authorization": f"Bearer {TOKEN}"})
        assert added.status_code == 201, added.text
        assert [f["url"] for f in httpx.get(f"{base}/api/feeds").json()["items"]] == [feed["url"]]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "mediamon"
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert "MEDIAMON_SECRET_KEY is not set" in err, "serving without a secret key is allowed, and said"
    assert "Traceback" not in err
