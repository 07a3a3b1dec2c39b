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
exec "$(dirname "$0")/install-deps.sh" nfdump argus-server argus-client softflowd tshark time procps
