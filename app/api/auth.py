"""Bearer tokens (RFC 6750): every view needs one, unless its own code says `@public`.

TokenAuthenticationMiddleware checks the `Authorization: Bearer <token>`
header once Django knows which view will answer and before that view runs:
before the body is read and before anything is written. A view added later
is protected without doing anything; opening one takes `@public` on the view
itself, where a reviewer sees it. Tokens are made and revoked only with the
management commands (createtoken, revoketoken, listtokens).
"""

import re
import threading
import time

from app.api.middleware import DATABASE_UNAVAILABLE, database_unavailable
from app.api.models import Token, token_digest
from app.api.problems import problem

# RFC 6750's b64token, which createtoken's tokens are (43 characters); a value
# longer than this is no token of ours and is refused without a lookup.
TOKEN_SYNTAX = re.compile(r"[A-Za-z0-9\-._~+/]{1,128}=*")
# Methods that change nothing (RFC 9110, 9.2.1): a read token may use these; every other method needs write.
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# How long a worker remembers a token it has looked up. The bound on
# revocation: the docs promise that a revoked token is refused within 5 s,
# and this stays a second inside that.
TOKEN_MEMORY_SECONDS = 4
# How many tokens a worker remembers at most: far more than a service has clients.
TOKEN_MEMORY_SIZE = 1024
# The attribute `public` sets.
PUBLIC = "answers_without_a_token"


def public(view):
    """Opens a view, a function or a class, to requests without a token: the one way to do so."""
    setattr(view, PUBLIC, True)
    return view


def is_public(view_func):
    # A class-based view reaches middleware as the function as_view() made, which
    # names its class. The class's own mark only: a subclass of a public view is
    # protected unless it says otherwise.
    view = getattr(view_func, "view_class", view_func)
    return vars(view).get(PUBLIC, False)


class RecentTokens:
    """The scopes of the tokens a worker has looked up lately: at most `size`, each for `seconds`.

    So that a client's requests cost one lookup every few seconds, not one
    each. Only tokens that exist are remembered: a flood of made-up ones cannot
    push out the real ones, and a new token works at once.
    """

    def __init__(self, size=TOKEN_MEMORY_SIZE, seconds=TOKEN_MEMORY_SECONDS):
        self.size, self.seconds = size, seconds
        # digest -> (when it is forgotten, scope). Entries are added in the order they
        # expire, so the first is the one to drop when there are too many.
        self.entries = {}
        # uWSGI's threads, if UWSGI_THREADS is raised, and the development server's share this.
        self.lock = threading.Lock()

    def scope(self, digest):
        """The scope of the token with this digest, or None if there is none; may raise a DatabaseError."""
        # The time before the lookup, not after: a revocation that commits while
        # the lookup runs is then honoured within `seconds` of it all the same.
        now = time.monotonic()
        with self.lock:
            expires, scope = self.entries.get(digest, (now, None))
        if expires > now:
            return scope
        try:
            scope = Token.objects.values_list("scope", flat=True).get(digest=digest)
        except Token.DoesNotExist:
            scope = None
        with self.lock:
            self.entries.pop(digest, None)
            if scope is not None:
                self.entries[digest] = (now + self.seconds, scope)
                if len(self.entries) > self.size:
                    del self.entries[next(iter(self.entries))]
        return scope


recent_tokens = RecentTokens()


def refusal(status, detail, **challenge):
    """A 401 or 403 problem, with the WWW-Authenticate challenge RFC 6750 asks for."""
    response = problem(status, detail)
    parameters = {"realm": "api", **challenge}
    response["WWW-Authenticate"] = "Bearer " + ", ".join(f'{name}="{value}"' for name, value in parameters.items())
    return response


def check_token(request):
    """None if the request's token allows it; otherwise the answer that refuses it."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        return refusal(401, "This needs a token, sent as the header Authorization: Bearer <token>.")
    # The scheme is case-insensitive (RFC 9110, 11.1); a token in the query string is never looked at.
    token = credentials.strip(" ")
    if scheme.lower() != "bearer" or not TOKEN_SYNTAX.fullmatch(token):
        return refusal(401, "The Authorization header must be Bearer <token>, the token as createtoken printed it.")
    try:
        scope = recent_tokens.scope(token_digest(token))
    except DATABASE_UNAVAILABLE as error:
        # Raised in process_view, the exception would skip every process_exception, the
        # 503 of DatabaseUnavailableMiddleware's included, and end as a 500.
        return database_unavailable(error)
    if scope is None:
        return refusal(401, "The token is unknown or has been revoked.", error="invalid_token")
    if request.method not in SAFE_METHODS and scope != Token.Scope.WRITE:
        detail = f"The token may only read; {request.method} needs a token with the write scope."
        return refusal(403, detail, error="insufficient_scope", scope=Token.Scope.WRITE)
    return None


class TokenAuthenticationMiddleware:
    """Refuses a request to any view not marked `@public` unless it carries a token that allows it.

    In process_view, which runs once the URL is resolved (so the view and its
    mark are known) and before the view reads the body. Unknown paths are
    still 404s without a token: the OpenAPI document, which is public, lists
    every path anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_public(view_func):
            return None
        return check_token(request)
