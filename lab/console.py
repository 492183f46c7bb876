"""The consoles the CLI prints through: a terminal's own width, and no cut at 80 columns when the output goes to a
file or a pipe (Rich's default there), where a log line folded mid-word reads as two."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

PIPED_WIDTH = 200
"""Columns of output that is not a terminal, unless $COLUMNS says otherwise."""


def make_console(stderr: bool = False, **options: Any) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=PIPED_WIDTH if piped else None, **options)
