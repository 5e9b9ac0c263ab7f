#!/usr/bin/env bash
# Installs what the build and the tests need from Debian's packages: a JDK (17+) and Maven to build, and the
# real peers the integration tests talk to (postfix with its table plug-ins for postmap -q side by side, swaks, chromium,
# dnsmasq, python3 for smtplib, slapd, PostgreSQL, MariaDB, sqlite3, clamd, spamd, OpenDKIM, rspamd, python3-milter
# (pymilter on libmilter: scripted milters),
# dovecot-core and dovecot-lmtpd for LMTP delivery and reading Maildirs). Idempotent: when everything is there it
# returns at once without touching apt. Runs as root (or through sudo).
#
# Postfix is installed with "No configuration", so it never starts a system mail service; the tests run private
# instances of it (see ../docs and /work/shared/notes/real-peers.md). Dovecot's postinst would start and enable the
# system's dovecot (IMAP on 143/993): while it is installed, a policy-rc.d that forbids starting services is put in
# place (when the machine has none), and afterwards the system service is stopped and disabled. The tests run
# private instances (dovecot -c FILE, see bundles/testing PrivateDovecot).
set -euo pipefail

want=(postfix postfix-pcre swaks chromium maven dnsmasq-base python3 dovecot-core dovecot-lmtpd
      postfix-ldap postfix-pgsql postfix-mysql postfix-sqlite postfix-cdb slapd ldap-utils postgresql mariadb-server sqlite3
      clamav-daemon spamassassin spamd opendkim opendkim-tools rspamd python3-milter)
# Packages whose postinst starts a system service: kept from starting while installing, then stopped and disabled.
# The tests run private instances (own data directory, loopback port or socket in a temporary directory).
services=(dovecot slapd postgresql mariadb clamav-daemon clamav-freshclam spamd opendkim rspamd)

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

policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    # invoke-rc.d and deb-systemd-invoke ask policy-rc.d first: 101 = action forbidden, so postinst starts nothing
    printf '#!/bin/sh\n# install-peers.sh: no service starts while packages are installed\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=yes
    trap '$SUDO rm -f "$policy"' EXIT
fi

$SUDO apt-get update -q
# Another apt run (a second checkout's tests) waits for the lock instead of failing.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"

if [ "$own_policy" = yes ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
fi
for svc in "${services[@]}"; do
    # The system's instance stays off (now and at boot); only the tests' private instances run.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
        [ "$svc" = dovecot ] && { $SUDO systemctl disable --now dovecot.socket >/dev/null 2>&1 || true; }
    else
        if [ -x "/etc/init.d/$svc" ]; then
            $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
        fi
    fi
    command -v update-rc.d >/dev/null 2>&1 && { $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true; }
done

if ! java_ok; then
    echo "install-peers: no JDK 17 or newer after installing default-jdk-headless" >&2
    exit 1
fi
