#!/usr/bin/env bash
# Builds the infergate image with podman or docker (whichever is present and
# working), from the repository root as the context: deploy/container/build.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-infergate:latest}
if command -v podman >/dev/null && podman info >/dev/null 2>&1; then
  ENGINE=podman
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  ENGINE=docker
else
  echo "build.sh: neither podman nor a running docker daemon is available" >&2
  exit 2
fi
"$ENGINE" build -f deploy/container/Dockerfile -t "$TAG" .
echo "built $TAG with $ENGINE"
