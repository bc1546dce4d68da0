"""The API's tokens, as the database keeps them: a digest of each, never the token itself."""

import hashlib

from django.db import models

# How many of a token's first characters are kept to tell it apart in listings.
PREFIX_LENGTH = 6


def token_digest(token):
    """The SHA-256 of a token, in hex: what the database keeps, and what a request's token is looked up by.

    A fast hash is right for tokens, and a password hash (PBKDF2, bcrypt,
    Argon2) is not. A password hash is slow and salted on purpose: people pick
    passwords from a space small enough to search, and each guess of whoever
    holds the digests must cost. A token is 32 random bytes (createtoken):
    2**256 candidates, a search no hash speed brings within reach, so slowness
    would protect nothing and would cost every request tens of milliseconds.
    Unsalted, the digest also names the token, so a request costs one indexed
    lookup rather than a check against every stored digest. Nor does the lookup
    leak through its timing: a client cannot choose the bytes of a digest.
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class Token(models.Model):
    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write"

    name = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=Scope)
    created_at = models.DateTimeField(auto_now_add=True)
    # The token's first characters: enough to tell which one a client holds, far too few to use (see createtoken).
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name
