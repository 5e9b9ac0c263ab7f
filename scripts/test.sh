#!/usr/bin/env bash
# Runs every test: unit tests, and the integration tests that start the real gateway (Felix with the real
# bundles) and talk to it with real peers (swaks, headless Chromium, Postfix). Peers are installed first; with
# ESTAFETA_REQUIRE_PEERS=1 a missing peer fails a test instead of skipping it.
#
#   scripts/test.sh [extra mvn arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-peers.sh
export ESTAFETA_REQUIRE_PEERS=1
exec mvn -B verify "$@"
