"""Assertions shared by the token-validation tests."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from webfed.errors import WebfedError


def rejection(
    action: Callable[[], object], code: str, check: str, *, token: str | None = None
) -> WebfedError:
    """Run ``action``, expect a ``WebfedError`` with ``code`` and explanation ``check``, and
    make sure neither the message nor the explanation repeats the token."""
    with pytest.raises(WebfedError) as failure:
        action()
    error = failure.value
    assert error.code == code, (error.code, error.explanation)
    assert error.explanation is not None
    assert error.explanation["check"] == check, error.explanation
    if token is not None:
        text = error.message + json.dumps(error.explanation, default=str) + repr(error)
        for segment in token.split("."):
            if len(segment) > 8:
                assert segment not in text
    return error
