"""The demo's one error: it cannot start or had to stop, and the message says why."""

from __future__ import annotations

import click

__all__ = ["DemoError"]


class DemoError(click.ClickException):
    """The demo cannot start; the message says why and what to do."""
