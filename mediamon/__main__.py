"""`python -m mediamon`: the same command as `mediamon`."""

from mediamon.cli import app

app()
