# Tasks for developing, testing and releasing the service. `make help` lists them.
# Everything runs in containers; the host needs Docker with Compose v2, make,
# and python3 (for the throwaway venvs of the linters and host-side tests, and
# for the bench scripts), and Node.js 20 or newer with npm for the dev container test's CLI.

IMAGE ?= notes
# Compose project for `make test`, apart from the one `make up` runs.
TEST_PROJECT ?= $(IMAGE)-test
# The compose dev server runs as you (see docker-compose.yml).
export HOST_UID := $(shell id -u)
export HOST_GID := $(shell id -g)
# Pipenv's version is pinned once, in the Dockerfile, and so is Python's: `make
# lock` and `make lock-tools` run in the builder stage's image.
PIPENV_VERSION := $(shell sed -n 's/^ARG PIPENV_VERSION=//p' Dockerfile)
PYTHON_IMAGE := $(shell sed -n 's/^FROM \(python:[^ ]*\) AS builder$$/\1/p' Dockerfile)
# The local database's URL, read where it is written once: docker-compose.yml (evaluated only where used).
COMPOSE_DATABASE_URL = $(shell docker compose config --format json | python3 -c \
	'import json, sys; print(json.load(sys.stdin)["services"]["app"]["environment"]["DATABASE_URL"])')
TEST_VENV := .cache/host-tests-venv
LINT_VENV := .cache/lint-venv
# uv compiles requirements-lint.in, requirements-release.in and bench/requirements-peers.in into their .txt (`make lock-tools`).
UV_VERSION := 0.13.8
# The release tools run inside the prod image: PYTHON_IMAGE installs them, for prod's Python.
RELEASE_TOOLS := .cache/release-tools
SBOM ?= sbom.cdx.json
# The shell scripts that shellcheck checks: add yours here.
SHELL_SCRIPTS := .ci/run .devcontainer/initialize.sh
# Where `make lint` writes the Kubernetes manifests as kubectl renders them.
RENDERED := .cache/kubernetes
# The dev container CLI (npm's @devcontainers/cli), which tests/host/test_devcontainer.py
# drives as VS Code would. Its folder carries the version, so a new one installs anew.
DEVCONTAINER_CLI_VERSION := 0.89.0
DEVCONTAINER_CLI_DIR := .cache/devcontainer-cli-$(DEVCONTAINER_CLI_VERSION)
DEVCONTAINER_CLI := $(DEVCONTAINER_CLI_DIR)/node_modules/.bin/devcontainer

.DEFAULT_GOAL := help
.PHONY: help init up watch down logs shell migrate manage token lock rename test test-app test-host build-arm64 test-arm64 lint lint-kubernetes lock-tools build sbom audit bench loadtest memory clean

# The targets with a `## ` description, under the `##@` group headings above them.
help: ## List the targets
	@awk 'BEGIN {FS = ":[^#]*## "} /^##@ / {printf "\n%s\n", substr($$0, 5)} \
		/^[a-z0-9-]+:.*## / {sub(/ +# example$$/, "", $$2); printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Develop

# Never overwrites an existing .env: it may hold settings you made.
init: ## Write .env for local development from .env.example, with a fresh secret key
	@if [ -e .env ]; then echo ".env exists and is left as it is; remove it to write a new one."; exit 0; fi; \
	key=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') || exit 1; \
	umask 077; sed "s/^DJANGO_SECRET_KEY=.*/DJANGO_SECRET_KEY=$$key/" .env.example >.env.tmp && mv .env.tmp .env; \
	echo "Wrote .env (DJANGO_SECRET_KEY freshly generated)."

up: ## Build the dev image, start PostgreSQL and the app with live reload on http://127.0.0.1:8000
	docker compose up --build --detach --wait

watch: ## Like `up`, but in the foreground, copying each edit into the container instead of mounting the source
	docker compose -f docker-compose.yml -f compose.watch.yaml watch

down: ## Stop the local stack (the database volume is kept)
	docker compose down

logs: ## Follow the local stack's logs
	docker compose logs --follow

shell: ## Open a shell in the running app container
	docker compose exec app bash

migrate: ## Apply migrations to the local database
	docker compose exec app python manage.py migrate

# ARGS is passed on as it is, e.g. make manage ARGS="createsuperuser" or ARGS="shell -c 'print(1)'".
manage: ## Run manage.py in the running app container: make manage ARGS="showmigrations"
	docker compose exec app python manage.py $(ARGS)

# Defaults for this target only: NAME is also `make rename`'s, which must have none.
token: NAME ?= dev
token: SCOPE ?= write
token: ## Make an API token in the local stack and print it, once (NAME=dev, SCOPE=write or read)
	docker compose exec -T app python manage.py createtoken '$(NAME)' --scope '$(SCOPE)'

# The full python image, because resolving psycopg2 runs its setup, which needs pg_config.
lock: ## Re-lock Pipfile.lock after editing the Pipfile (runs Pipenv in a container)
	docker run --rm --user "$$(id -u):$$(id -g)" -e HOME=/tmp -v "$(CURDIR):/src" -w /src $(PYTHON_IMAGE) \
		sh -c 'python -m venv /tmp/pipenv && /tmp/pipenv/bin/pip install --quiet pipenv==$(PIPENV_VERSION) \
		&& /tmp/pipenv/bin/pipenv lock'

# scripts/host/rename.py lists what it changes; it refuses a name that is not a lowercase identifier.
rename: ## Give a copy of this template its own name: make rename NAME=inventory
	python3 scripts/host/rename.py '$(NAME)'

# scripts/host/remove_example.py says what goes: the example's folders, and the lines and passages marked as its.  # example
.PHONY: remove-example  # example
remove-example: ## Delete the example app, its tests and every line marked as the example's (README, step 3)  # example
	python3 scripts/host/remove_example.py  # example

##@ Test

test: lint test-app test-host ## Build the images, run the linters and every test (what CI runs)

# PYTEST_ARGS picks tests and options, e.g. PYTEST_ARGS="tests/test_errors.py -k 404".
# SCHEMATHESIS_SEED=N draws the OpenAPI tests' requests from the seed a run's header printed, to replay it.
test-app: ## Build the dev image and run its tests against PostgreSQL (PYTEST_ARGS="..." for one test)
	docker build --target dev -t $(IMAGE):dev .
	docker compose -p $(TEST_PROJECT) up --detach --wait db
	docker run --rm --network $(TEST_PROJECT)_default -e SCHEMATHESIS_SEED \
		-e DATABASE_URL=$(COMPOSE_DATABASE_URL) $(IMAGE):dev pytest $(PYTEST_ARGS); \
		status=$$?; docker compose -p $(TEST_PROJECT) down --volumes; exit $$status

# PYTEST_ARGS picks tests here too, e.g. PYTEST_ARGS="tests/host/test_image.py -k budget".
# The linters' venv too: its kubectl renders the Kubernetes manifests for the tests.
test-host: $(TEST_VENV)/bin/pytest $(LINT_VENV)/bin/zizmor $(DEVCONTAINER_CLI) ## Build the images and test them, the compose stack, dev container, linters and template from the host
	IMAGE=$(IMAGE) DEVCONTAINER_CLI=$(CURDIR)/$(DEVCONTAINER_CLI) $(TEST_VENV)/bin/pytest $(or $(PYTEST_ARGS),tests/host)

# The host's test runner comes from Pipfile.lock too (its dev packages, exported
# by the Dockerfile's export stage), in a venv that leaves the host's Python alone.
$(TEST_VENV)/bin/pytest: Pipfile.lock
	docker build --quiet --target export -t $(IMAGE):export . >/dev/null
	rm -rf $(TEST_VENV)
	python3 -m venv $(TEST_VENV)
	docker run --rm $(IMAGE):export cat requirements-dev.txt >$(TEST_VENV)/requirements.txt
	$(TEST_VENV)/bin/pip install --quiet --require-hashes -r $(TEST_VENV)/requirements.txt

# The CLI needs Node.js 20 or newer; it has no dependencies, so the exact version pins all it runs.
$(DEVCONTAINER_CLI):
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null && command -v npm >/dev/null \
		|| { echo "The dev container test needs Node.js 20 or newer and npm on the host (nodejs.org/en/download)."; exit 1; }
	rm -rf $(DEVCONTAINER_CLI_DIR)
	npm install --prefix $(DEVCONTAINER_CLI_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error \
		@devcontainers/cli@$(DEVCONTAINER_CLI_VERSION)

# Not part of `make test`: emulated, the build takes the better part of an hour or more (docs/release.md).
build-arm64: ## Build prod for linux/arm64 under QEMU emulation as notes:prod-arm64 (slow, see docs/release.md)
	docker buildx build --platform linux/arm64 --target prod -t $(IMAGE):prod-arm64 --load .

test-arm64: $(TEST_VENV)/bin/pytest ## Build prod for arm64 and test it, emulated, against PostgreSQL (slow)
	IMAGE=$(IMAGE) $(TEST_VENV)/bin/pytest tests/host -m arm64

##@ Lint

lint: $(LINT_VENV)/bin/zizmor ## Run the linters on the Dockerfile, Python (and its import contracts), shell, workflow, Dependabot, compose and Kubernetes files
	$(LINT_VENV)/bin/hadolint Dockerfile
	$(LINT_VENV)/bin/lint-imports --no-logo --cache-dir .cache/import-linter
	$(LINT_VENV)/bin/ruff check .
	$(LINT_VENV)/bin/ruff format --check .
	$(LINT_VENV)/bin/shellcheck $(SHELL_SCRIPTS)
	$(LINT_VENV)/bin/actionlint -shellcheck $(LINT_VENV)/bin/shellcheck $(wildcard .github/workflows/*.yml)
	$(LINT_VENV)/bin/zizmor .
	$(LINT_VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	docker compose config --quiet
	docker compose -f docker-compose.yml -f compose.watch.yaml config --quiet
	docker compose -f docker-compose.yml -f .devcontainer/compose.yaml config --quiet
	@# The git hooks must run the same versions as this target.
	@for pin in $$(grep -oE '^[A-Za-z0-9._-]+==[^ ]+' requirements-lint.in); do \
		grep -qFw -- "$$pin" .pre-commit-config.yaml \
		|| { echo "requirements-lint.in pins $$pin; .pre-commit-config.yaml must use the same version."; exit 1; }; \
	done
	@$(MAKE) --no-print-directory lint-kubernetes

# deploy/kubernetes, rendered as `kubectl kustomize` does (offline), checked against
# the Kubernetes API's schemas and by checkov's policies (on the overlay, which has an
# image tag and a namespace). Also the git hook's command, with the hook's venv as LINT_VENV.
lint-kubernetes: ## Render deploy/kubernetes and check it (part of lint; the git hook's command)
	rm -rf $(RENDERED) && mkdir -p $(RENDERED)
	$(LINT_VENV)/bin/kubectl kustomize deploy/kubernetes/base >$(RENDERED)/base.yaml
	$(LINT_VENV)/bin/kubectl kustomize deploy/kubernetes/overlays/example >$(RENDERED)/example.yaml
	@# --quiet prints only warnings and errors; a warning (a kind it has no schema for) fails too.
	@out=$$($(LINT_VENV)/bin/kubernetes-validate --strict --quiet $(RENDERED)/*.yaml 2>&1) && [ -z "$$out" ] \
		|| { echo "$$out"; echo "kubernetes-validate: the manifests above are invalid."; exit 1; }
	$(LINT_VENV)/bin/checkov --config-file deploy/kubernetes/checkov.yaml --file $(RENDERED)/example.yaml

# The linters are installed with their hashes, in a venv that leaves the host's Python alone.
$(LINT_VENV)/bin/zizmor: requirements-lint.txt
	rm -rf $(LINT_VENV)
	python3 -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --require-hashes -r requirements-lint.txt

# uv, in a container so that any host works, resolves for every platform and Python 3.11 and newer.
lock-tools: ## Re-pin the linters', release tools' and load test peers' requirements (.txt) after editing their .in files
	docker run --rm --user "$$(id -u):$$(id -g)" -e HOME=/tmp -v "$(CURDIR):/src" -w /src $(PYTHON_IMAGE) \
		sh -c 'python -m venv /tmp/uv && /tmp/uv/bin/pip install --quiet uv==$(UV_VERSION) \
		&& for tools in requirements-lint requirements-release bench/requirements-peers; do /tmp/uv/bin/uv pip compile --quiet \
		--universal --python-version 3.11 --generate-hashes --output-file $$tools.txt $$tools.in || exit 1; done'

##@ Release

build: ## Build the prod and dev images (notes:prod, notes:dev)
	docker build --target prod -t $(IMAGE):prod .
	docker build --target dev -t $(IMAGE):dev .

sbom: $(RELEASE_TOOLS)/installed ## Build prod and write sbom.cdx.json: a CycloneDX SBOM of the prod image's Python and Debian packages
	docker build --target prod -t $(IMAGE):prod .
	docker run --rm -v "$(CURDIR)/scripts/in-image/sbom.py:/sbom.py:ro" -v "$(CURDIR)/$(RELEASE_TOOLS):/release-tools:ro" \
		$(IMAGE):prod python /sbom.py /release-tools $(IMAGE):prod >$(SBOM).tmp
	mv $(SBOM).tmp $(SBOM)

# Not part of `make test`: without its advisory database (unreachable on some
# networks) pip-audit could check nothing, and --strict makes that a failure.
audit: $(RELEASE_TOOLS)/installed ## Build the export stage and check the locked production packages for known vulnerabilities (needs PyPI's advisories)
	docker build --quiet --target export -t $(IMAGE):export . >/dev/null
	docker run --rm $(IMAGE):export cat requirements.txt >$(RELEASE_TOOLS)/requirements.txt
	docker run --rm -e HOME=/tmp -v "$(CURDIR)/$(RELEASE_TOOLS):/release-tools:ro" -w /release-tools $(PYTHON_IMAGE) \
		python -m pip_audit --strict --disable-pip --require-hashes --progress-spinner off -r requirements.txt

# The tools with their hashes, in a folder that is mounted into the containers that run them.
$(RELEASE_TOOLS)/installed: requirements-release.txt Dockerfile
	rm -rf $(RELEASE_TOOLS)
	mkdir -p $(RELEASE_TOOLS)
	docker run --rm --user "$$(id -u):$$(id -g)" -e HOME=/tmp -v "$(CURDIR):/src" $(PYTHON_IMAGE) \
		pip install --quiet --require-hashes --target /src/$(RELEASE_TOOLS) -r /src/requirements-release.txt
	touch $@

##@ Benchmarks

bench: ## Build the naive "before" and prod side by side and compare them (clears the build cache)
	python3 -m bench.bench

loadtest: ## Build prod and its variants, and measure it against PostgreSQL next to gunicorn, granian, a bare WSGI app and a bare Django: throughput, latency, a profile, start-up
	IMAGE=$(IMAGE) python3 -m bench.loadtest

memory: ## Build prod and measure its memory under load and of a migration (the Kubernetes requests and limits)
	IMAGE=$(IMAGE) python3 -m bench.memory

##@ Clean up

clean: ## Remove the stacks, their volumes, the images and local caches
	docker compose down --volumes --remove-orphans
	docker compose -p $(TEST_PROJECT) down --volumes --remove-orphans
	@# The dev container's stack, by the project name initialize.sh wrote, if it ever ran.
	if [ -e .devcontainer/compose.host.yaml ]; then docker compose -f docker-compose.yml -f .devcontainer/compose.yaml \
		-f .devcontainer/compose.host.yaml down --volumes --remove-orphans --rmi local; fi
	-docker image rm $(IMAGE):prod $(IMAGE):dev $(IMAGE):export $(IMAGE):prod-arm64
	docker image ls --format '{{.Repository}}:{{.Tag}}' --filter reference=$(IMAGE)-bench | xargs --no-run-if-empty docker image rm
	rm -rf .cache
