"""Running `mediamon` in the tests: in this process (fast), or as a real subprocess (end to end).

:func:`mediamon` runs the Typer app in-process with Typer's ``CliRunner``: its own standard
input, output and error, its own exit code, and exactly the ``MEDIAMON_`` settings it is given.
One process then loads the sentence-embedding model once for all the CLI tests, instead of once
per call. :func:`mediamon_process` starts the installed command for the few tests that prove
the command itself works end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from mediamon.cli import app

SETTINGS_PREFIX = "MEDIAMON_"


@dataclass(frozen=True)
class Invocation:
    """What one in-process run left: the fields of ``subprocess.CompletedProcess`` the tests read."""

    returncode: int
    stdout: str
    stderr: str


def mediamon(env: Mapping[str, str], *args: str, stdin: str | None = None) -> Invocation:
    """Run ``mediamon *args`` in this process, with the variables of ``env`` set for the call.

    Settings are read from the environment by each command, so every ``MEDIAMON_`` variable of
    this process that ``env`` does not name is unset for the call: the outer environment never
    leaks into a test. (``CliRunner`` restores the environment afterwards.)

    An exception escaping the command ends a real process with a traceback on standard error and
    exit code 1; here it is appended to ``stderr`` the same way, so "no traceback" assertions
    keep their meaning and a failing test shows it.
    """
    hidden: dict[str, str | None] = {k: None for k in os.environ if k.startswith(SETTINGS_PREFIX)}
    result = CliRunner().invoke(app, list(args), input=stdin, env={**hidden, **env})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Invocation(returncode=result.exit_code, stdout=result.stdout, stderr=stderr)


def local_site_env(database: Path, **settings: str) -> dict[str, str]:
    """A test's settings for commands that fetch from the local site: SQLite at ``database``,
    127.0.0.1 allowed, no retries, wide output; plus ``settings``."""
    return {
        "MEDIAMON_DATABASE_URL": f"sqlite:///{database}",
        "MEDIAMON_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
        "MEDIAMON_HTTP_RETRIES": "0",
        "COLUMNS": "200",
        **settings,
    }


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any MEDIAMON_ variable, plus ``settings``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIX)}
    environment.update(settings)
    return environment


def mediamon_process(
    command: list[str], env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command *args`` as a real subprocess (``command`` is e.g. the console script)."""
    return subprocess.run(
        [*command, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def console_script() -> list[str]:
    """The `mediamon` console script installed next to this interpreter."""
    return [str(Path(sys.executable).with_name("mediamon"))]


def python_module(module: str) -> list[str]:
    """``python -m module`` with this interpreter."""
    return [sys.executable, "-m", module]
