"""`manage.py revoketoken NAME`: the token stops working, in every worker within seconds (TOKEN_MEMORY_SECONDS)."""

from django.core.management.base import BaseCommand, CommandError

from app.api.auth import TOKEN_MEMORY_SECONDS
from app.api.models import Token


class Command(BaseCommand):
    help = "Revokes an API token: every worker refuses it within seconds."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the token's name, as listtokens shows it")

    def handle(self, *args, name, **options):
        deleted, _ = Token.objects.filter(name=name).delete()
        if not deleted:
            raise CommandError(f"There is no token named {name!r} (manage.py listtokens lists them).")
        self.stdout.write(f"Revoked the token {name!r}: every worker refuses it within {TOKEN_MEMORY_SECONDS} s.")
