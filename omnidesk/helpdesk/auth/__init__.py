"""Agent sign-in: password hashes and tokens, who a cookie or API token belongs to, and
the middleware that checks every route's role and CSRF token."""

from omnidesk.helpdesk.auth.crypto import (
    API_TOKEN_PREFIX,
    hash_password,
    new_api_token,
    token_digest,
    verify_password,
)
from omnidesk.helpdesk.auth.guard import CSRF_HEADER, SESSION_COOKIE, AuthGuard, actor_for

__all__ = [
    "API_TOKEN_PREFIX",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AuthGuard",
    "actor_for",
    "hash_password",
    "new_api_token",
    "token_digest",
    "verify_password",
]
