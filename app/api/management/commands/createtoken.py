"""`manage.py createtoken NAME --scope read|write`: makes an API token and prints it, the only time it is seen."""

import re
import secrets
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from app.api.models import PREFIX_LENGTH, Token, token_digest

# 32 bytes from the operating system's random source: 256 bits, which no one
# guesses, whatever the speed of the hash the database keeps (see token_digest).
TOKEN_BYTES = 32
NAME_MAX_LENGTH = Token._meta.get_field("name").max_length
# Names appear in listings and commands: no spaces or control characters to garble them.
NAME = re.compile(rf"[A-Za-z0-9._@-]{{1,{NAME_MAX_LENGTH}}}")


def token_name(text):
    if not NAME.fullmatch(text):
        raise ArgumentTypeError(
            f"{text!r} is not a token name: 1 to {NAME_MAX_LENGTH} letters, digits and . _ @ - (no spaces)."
        )
    return text


class Command(BaseCommand):
    help = "Makes an API token and prints it, once, alone on the last line of standard output."

    def add_arguments(self, parser):
        parser.add_argument("name", type=token_name, help="what the token is for, unique: ci, mobile-app, alice")
        parser.add_argument("--scope", required=True, choices=Token.Scope.values, help="read: GET only; write: all")

    def handle(self, *args, name, scope, **options):
        # URL-safe base64, which RFC 6750's token syntax allows as it is: 43 characters.
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            with transaction.atomic():
                Token.objects.create(name=name, scope=scope, prefix=token[:PREFIX_LENGTH], digest=token_digest(token))
        except IntegrityError:
            raise CommandError(
                f"A token named {name!r} exists already: choose another name, or revoke it first "
                f"(manage.py revoketoken {name})."
            ) from None
        # The notice to standard error, so that standard output is the token alone: TOKEN=$(... createtoken ...).
        self.stderr.write(
            f"Made the token {name!r} ({scope}), which starts with {token[:PREFIX_LENGTH]}. It is shown this once "
            "and kept nowhere: store it now. Send it as the header Authorization: Bearer <token>.",
            style_func=self.style.WARNING,
        )
        self.stdout.write(token)
