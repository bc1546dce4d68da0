"""The service's settings with the harness's URLs: what tests/host/harness.Dockerfile runs."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "harness.urls"
