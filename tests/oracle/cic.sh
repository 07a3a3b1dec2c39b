#!/usr/bin/env bash
# The cic profile against its independent oracle (tshark + pandas) on every readable
# capture of the shared corpus, two captures at a time (cic_oracle.py says what is
# compared and how). Skips when the corpus, tshark or pandas is absent.
. "$(dirname "$0")/../lib/preamble.sh"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "skipped: shared capture corpus not found at $CORPUS"
	nfm_finish; exit
fi
if ! command -v tshark >/dev/null; then
	echo "skipped: tshark is not installed"
	nfm_finish; exit
fi
# pandas may live only in Debian's python3 (python3-pandas) when another python3 comes
# first on PATH.
py=
for c in python3 /usr/bin/python3; do
	if "$c" -c 'import pandas' >/dev/null 2>&1; then py=$c; break; fi
done
if [ -z "$py" ]; then
	echo "skipped: no python3 with pandas (scripts/install-deps.sh installs python3-pandas)"
	nfm_finish; exit
fi
NFM_SHARED=$(dirname "$CORPUS") NFM_PROG=$PROG NFM_JOBS=${NFM_JOBS:-2} "$py" "$ROOT/tests/oracle/cic_oracle.py"
