# One Dockerfile, six stages. Targets people build:
#   docker build --target prod .   the image that runs in production
#   docker build --target dev .    the same runtime plus test tools; runs pytest
# The other stages only feed these two. Each stage says what it is for.
# Base images are pinned by tag; docs/updating.md says how to move them forward.

# export: turns Pipfile.lock into pip requirements files, so that no later stage needs Pipenv.
FROM python:3.14-slim AS export
ARG PIPENV_VERSION=2026.10.3
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --root-user-action=ignore "pipenv==${PIPENV_VERSION}"
WORKDIR /src
COPY Pipfile Pipfile.lock ./
# `pipenv verify` fails the build when Pipfile.lock no longer matches the Pipfile:
# locking is a developer's step (`make lock`), never a side effect of a build.
RUN pipenv verify \
 && pipenv requirements --hash > requirements.txt \
 && pipenv requirements --hash --dev-only > requirements-dev.txt

# builder: compiles and installs the production packages into /opt/venv, which prod copies.
# The full python image has the compilers and headers (libpq-dev) that uWSGI and psycopg2 need.
FROM python:3.14 AS builder
# A venv without pip of its own: the image's pip installs into it, and nothing
# of pip reaches production.
RUN python -m venv --without-pip /opt/venv
COPY --from=export /src/requirements.txt /tmp/
# --require-hashes: only the files recorded in Pipfile.lock. --no-binary: uWSGI and psycopg2
# compiled against this image's libpq, not wheels bundling their own libraries.
# xml=false, pcre=false: uWSGI features unused here that would otherwise depend on which
# headers the build image happens to have. After changing them, `docker builder prune`
# (pip caches the built wheel in the cache mount).
RUN --mount=type=cache,target=/root/.cache/pip \
    UWSGI_PROFILE_OVERRIDE="xml=false;pcre=false" \
    pip --python /opt/venv/bin/python install --root-user-action=ignore \
        --require-hashes --no-binary uwsgi,psycopg2 -r /tmp/requirements.txt

# dev-builder: installs the test tools on their own, for the dev image to add on top of prod.
FROM builder AS dev-builder
COPY --from=export /src/requirements-dev.txt /tmp/
# --target: a separate folder, so that dev can take prod's layers unchanged and
# add just this one.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip --python /opt/venv/bin/python install --root-user-action=ignore \
        --require-hashes --target /opt/dev-packages -r /tmp/requirements-dev.txt

# base: the slim runtime that prod (and so dev) builds on: security updates,
# runtime libraries only, and the unprivileged user.
FROM python:3.14-slim AS base
# apt's downloads and lists stay in cache mounts, never in the image (docker-clean would delete them).
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update \
 # Security updates at build time: the base image may be weeks old.
 && apt-get upgrade -y \
 # The PostgreSQL client library psycopg2 was compiled against.
 && apt-get install -y --no-install-recommends libpq5 \
 # Nothing installs packages at run time.
 && python -m pip uninstall --yes --root-user-action=ignore pip \
 # The standard library's bytecode, once: a read-only container cannot cache it (docs/practices.md).
 && python -m compileall -q -j 0 "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
 # No setuid/setgid programs: nothing in the container can gain privileges.
 && find / -xdev -type f -perm /6000 -exec chmod ug-s {} + \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings
WORKDIR /app

# prod: serves the API with uWSGI on port 8000 as the unprivileged user.
FROM base AS prod
COPY --from=builder /opt/venv /opt/venv
# Source last: an edit rebuilds only these layers. Owned by root, read-only to the app user.
COPY manage.py ./
COPY config config
COPY app app
# OCI labels: what the image is and where it came from. The release workflow
# passes the variable ones as build arguments; a local build leaves them empty.
# Declared after the COPYs, so a new revision or date rebuilds no layer.
# The title is the project's name (`make rename` changes it), licenses the SPDX id of LICENSE.
ARG VERSION="" REVISION="" CREATED="" SOURCE=""
LABEL org.opencontainers.image.title=notes \
      org.opencontainers.image.description="notes: a Django JSON API served by uWSGI" \
      org.opencontainers.image.licenses="MIT-0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
USER 10001:10001
# The API, the probes' own worker and the Prometheus metrics (config/uwsgi.ini).
EXPOSE 8000 8002 9100
# On the probes' port, so a check never waits behind API requests. Slim images
# have no curl; the standard library can make the request.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --start-interval=1s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/healthz', timeout=2)"]
CMD ["uwsgi", "--ini", "config/uwsgi.ini"]

# dev: prod's layers exactly, plus the test tools and tests; runs the suite
# (`docker run --rm <image>`). docker compose serves from it with live reload.
FROM prod AS dev
COPY --from=dev-builder /opt/dev-packages /opt/dev-packages
COPY pyproject.toml ./
COPY tests tests
ENV PYTHONPATH=/opt/dev-packages \
    PATH=/opt/dev-packages/bin:$PATH \
    DJANGO_DEBUG=1
# The compose dev server's health (what `up --wait` waits for): Django's server has no probes' port.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --start-interval=1s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["pytest"]
