#!/usr/bin/env bash
# Installs what the build and the tests need from Debian's packages: a JDK (17+) and Maven to build, and the
# real peers the integration tests talk to (postfix and postfix-pcre for postmap -q pcre:, swaks, chromium, dnsmasq, python3 for smtplib). Idempotent: when everything is there it
# returns at once without touching apt. Runs as root (or through sudo).
#
# Postfix is installed with "No configuration", so it never starts a system mail service; the tests run private
# instances of it (see ../docs and /work/shared/notes/real-peers.md).
set -euo pipefail

want=(postfix postfix-pcre swaks chromium maven dnsmasq-base python3)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

java_ok() {
    command -v javac >/dev/null 2>&1 || return 1
    local major
    major=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')
    [ -n "$major" ] && [ "$major" -ge 17 ]
}

missing=()
for p in "${want[@]}"; do
    installed "$p" || missing+=("$p")
done
java_ok || missing+=(default-jdk-headless)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-peers: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-peers: installing ${missing[*]}" >&2
# Postfix: no system mail service, nothing starts.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

if ! java_ok; then
    echo "install-peers: no JDK 17 or newer after installing default-jdk-headless" >&2
    exit 1
fi
