"""`manage.py listtokens`: every token's name, scope, creation time and first characters; never a token."""

from django.core.management.base import BaseCommand

from app.api.models import Token


class Command(BaseCommand):
    help = "Lists the API tokens: name, scope, when made (UTC), and the characters each starts with."

    def handle(self, *args, **options):
        tokens = list(Token.objects.all())
        if not tokens:
            self.stdout.write("No tokens. Make one with: manage.py createtoken NAME --scope read|write")
            return
        rows = [("name", "scope", "created (UTC)", "starts with")]
        rows += [(token.name, token.scope, f"{token.created_at:%Y-%m-%d %H:%M:%S}", token.prefix) for token in tokens]
        width = max(len(name) for name, *_ in rows)
        for name, scope, created, prefix in rows:
            self.stdout.write(f"{name:<{width}}  {scope:<5}  {created:<19}  {prefix}")
