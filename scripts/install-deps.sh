#!/usr/bin/env bash
# Installs the Debian packages NexusFlowMeter needs to build and test, or the packages
# named as arguments (scripts/install-bench-deps.sh passes the benchmark's peers).
# Installs only what is missing; uses sudo when not run as root.
#   time  /usr/bin/time, for the memory-cap test;  zstd  the CLI's .zst input test;
#   python3-openpyxl  the XLSX tests read workbooks back with it;
#   nfdump  nfpcapd, nfcapd and nfdump: the NetFlow differential and export tests;
#   liblz4-dev  LZ4-compressed nfcapd files;
#   python3-pandas  the oracle of the cic profile (tests/oracle/) and its README example;
#   python3-sklearn  that example's classifier
set -euo pipefail
if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	pkgs=(build-essential pkg-config libpcap-dev libzstd-dev zlib1g-dev
	      clang tshark unzip python3 python3-openpyxl time zstd
	      nfdump liblz4-dev python3-pandas python3-sklearn)
fi
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
