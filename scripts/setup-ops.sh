#!/usr/bin/env bash
# Install Debian's Prometheus and Alertmanager (with promtool and amtool) for `cargo xtask
# ops-check` and the fire drill, HAProxy, Apache Bench (ab) and socat for the blue-green
# drill, and shellcheck for the scripts. Idempotent: does nothing when they are already there.
# Nothing is started here: the checks start and stop their own instances on 127.0.0.1.
set -euo pipefail
missing=()
# HAProxy lives in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/sbin"
tools=(prometheus promtool prometheus-alertmanager amtool haproxy ab socat curl shellcheck)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "setup-ops: installing Debian's monitoring and load-balancing tools (missing: ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
packages=(prometheus prometheus-alertmanager haproxy apache2-utils socat curl shellcheck)
if ! $SUDO apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null; then
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null
fi
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null
done
