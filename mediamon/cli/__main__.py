"""`python -m mediamon.cli`: the same command as `mediamon`."""

from mediamon.cli import app

app()
