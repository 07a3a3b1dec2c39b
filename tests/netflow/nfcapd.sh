#!/usr/bin/env bash
# -of nfcapd on the shared corpus, read back by nfdump 1.7.1: for every capture, the
# nfcapd files (plain and --lz4) are read by nfdump -r, nfdump -I's totals are the sums of
# our records, and nfdump -r -o json prints exactly the records of our own nfdump JSON
# output of the same slices (-of nfdump-dict: every slice's -of nfdump array in one
# file). nfcapd_compare.py converts and checks two captures at a time. Skips when the
# corpus or nfdump is absent.
. "$(dirname "$0")/../lib/preamble.sh"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "skipped: shared capture corpus not found at $CORPUS"
	nfm_finish; exit
fi
if ! command -v nfdump >/dev/null; then
	echo "skipped: nfdump not installed (scripts/install-deps.sh installs it)"
	nfm_finish; exit
fi

# Captures with long gaps make thousands of (empty) slice files: they are written to
# memory (tmpfs) where there is one, several times faster than to a disk.
out=$(mktemp -d -p /dev/shm nfm-nfcapd.XXXXXX 2>/dev/null) || out=$work
[ "$out" = "$work" ] || nfm_at_exit 'rm -rf "$out"'

python3 "$ROOT/tests/netflow/nfcapd_compare.py" "$PROG" "$CORPUS" "$out" >"$work/result" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	ok\ *) ok ;;
	FAIL\ *) bad "${line#FAIL }" ;;
	*) echo "    $line" ;;
	esac
done <"$work/result"
[ $rc -eq 0 ] || bad "nfcapd_compare.py: exit $rc"
[ $pass -gt 0 ] || bad "no check ran"
nfm_finish
