#!/bin/sh
# The dev container's initializeCommand: runs on the host before the CLI reads
# the compose files, and writes compose.host.yaml (ignored by git) with what
# only the host knows.
set -eu
cd "$(dirname "$0")"
# A compose project of this checkout's own: `make up`'s is named after the
# folder alone, and one project would let each replace the other's app container.
project=$(basename "$(dirname "$PWD")" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9_-' | sed 's/^[-_]*//')
cat >compose.host.yaml <<YAML
# Written by initialize.sh each time the dev container starts.
name: ${project:-app}-devcontainer
services:
  app:
    # You, as \`make up\` runs the app: files written in /app are yours.
    user: "$(id -u):$(id -g)"
YAML
