#!/usr/bin/env bash
# Installs the Debian packages `make bench` compares NexusFlowMeter with (see
# docs/performance.md). Installs only what is missing; uses sudo when not run as root.
#   nfdump        nfpcapd (pcap -> nfcapd files)
#   argus-server  argus (pcap -> argus records)
#   argus-client  ra and friends (reads argus files)
#   softflowd     softflowd (pcap -> NetFlow export)
#   tshark        tshark (conversation statistics)
#   time          /usr/bin/time (wall, CPU and peak RSS of each run)
#   procps        nproc/free for the machine summary (usually present)
set -euo pipefail
pkgs=(nfdump argus-server argus-client softflowd tshark time procps)
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
