#!/usr/bin/env bash
# Installs the Debian packages NexusFlowMeter needs to build and test. Installs only what
# is missing; uses sudo when not run as root.
set -euo pipefail
pkgs=(build-essential pkg-config libpcap-dev libxlsxwriter-dev libzstd-dev zlib1g-dev
      clang tshark unzip python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
