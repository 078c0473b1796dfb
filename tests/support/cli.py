"""Running `mediamon` as users do: a subprocess with an environment of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MEDIAMON = [sys.executable, "-m", "mediamon.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any MEDIAMON_ variable, plus ``settings``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    environment.update(settings)
    return environment


def mediamon(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDIAMON, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
