"""The sign-in page and the error page, as HTML text; every value is escaped.

The ids ``username``, ``claims`` and ``sign-in`` (and ``cancel``) are stable, for browser
automation. The page carries the checked authorization request in hidden fields; ``POST
/dev-idp/authorize`` checks them all again, so editing them gains nothing.
"""

from __future__ import annotations

from html import escape

from webfed.devidp.authorization import AuthorizationRequest

__all__ = ["SECURITY_HEADERS", "error_page", "sign_in_page"]

#: No script, no framing, nothing loaded from elsewhere; the page is never cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
.banner { background: #b00020; color: #fff; padding: .75rem 1rem; font-weight: bold; }
.error { border: 2px solid #b00020; padding: .5rem 1rem; }
label { display: block; margin-top: 1rem; font-weight: bold; }
input, textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
textarea { font-family: monospace; min-height: 6rem; }
button { margin-top: 1rem; margin-right: .5rem; font: inherit; padding: .4rem 1rem; }
dt { font-weight: bold; } dd { margin: 0 0 .5rem 0; overflow-wrap: anywhere; }
"""
_BANNER = (
    '<p class="banner" id="dev-idp-banner">webfed development identity provider: '
    "NOT for production. Anyone can sign in as anyone.</p>"
)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{_BANNER}{body}</body></html>\n"
    )


def sign_in_page(
    request: AuthorizationRequest,
    *,
    action: str,
    username: str = "",
    claims: str = "",
    problem: str | None = None,
) -> str:
    """The form that signs in as any user name, with optional extra claims as JSON."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in request.form_fields().items()
    )
    shown_problem = f'<p class="error" id="problem">{escape(problem)}</p>' if problem else ""
    body = (
        "<h1>Sign in</h1>"
        f"<dl><dt>Application (client_id)</dt><dd>{escape(request.client_id)}</dd>"
        f"<dt>Returns to</dt><dd>{escape(request.redirect_uri)}</dd>"
        f"<dt>Scopes</dt><dd>{escape(' '.join(request.scope))}</dd></dl>"
        f"{shown_problem}"
        f'<form method="post" action="{escape(action)}">{hidden}'
        '<label for="username">User name</label>'
        f'<input id="username" name="username" value="{escape(username)}" required '
        'maxlength="64" autocomplete="username" autofocus>'
        '<label for="claims">Extra claims (a JSON object, optional)</label>'
        f'<textarea id="claims" name="claims" spellcheck="false">{escape(claims)}</textarea>'
        '<button id="sign-in" type="submit" name="decision" value="sign-in">Sign in</button>'
        '<button id="cancel" type="submit" name="decision" value="cancel" formnovalidate>'
        "Cancel</button></form>"
    )
    return _document("Sign in: webfed development provider", body)


def error_page(message: str) -> str:
    """The page for an error that must not be sent to the redirection URI."""
    body = (
        "<h1>This sign-in request cannot be completed</h1>"
        f'<p class="error" id="problem">{escape(message)}</p>'
        "<p>The application sent an authorization request with a missing or unacceptable "
        "client_id or redirect_uri, so it is not sent back there (RFC 6749 section 4.1.2.1).</p>"
    )
    return _document("Sign-in error: webfed development provider", body)
