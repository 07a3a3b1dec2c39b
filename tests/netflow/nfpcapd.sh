#!/usr/bin/env bash
# -of nfdump / nfdump-dict against nfpcapd + nfdump 1.7.1 on the shared corpus
# (nfpcapd_compare.py says what is checked). Skips when the corpus or nfdump is absent.
. "$(dirname "$0")/../lib/preamble.sh"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "skipped: shared capture corpus not found at $CORPUS"
	nfm_finish; exit
fi
if ! command -v nfpcapd >/dev/null || ! command -v nfdump >/dev/null; then
	echo "skipped: nfpcapd/nfdump not installed (scripts/install-deps.sh installs nfdump)"
	nfm_finish; exit
fi
python3 "$ROOT/tests/netflow/nfpcapd_compare.py" "$PROG" "$CORPUS" "$ROOT/docs/netflow.md"
