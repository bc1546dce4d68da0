from django.apps import AppConfig


class ApiConfig(AppConfig):
    # An app for its token model and management commands (createtoken, revoketoken, listtokens).
    name = "app.api"
