#!/usr/bin/env bash
# Worker-count identity: the records written (same set, same order) must not depend on
# --max-workers. Checked on generated captures (many overlapping flows, IPv6, VLAN,
# short flows, idle timeouts that fire mid-capture) and on every capture of the shared
# corpus when it is present. Prints "N passed, N failed".
. "$(dirname "$0")/../lib/preamble.sh"

# same FILE EXTRA_ARGS... : converts with 1, 2 and 3 workers and compares.
same() {
	local f=$1; shift
	local ref="$work/w1.csv" rc1 rc
	"$PROG" "$f" "$ref" --extended --no-progress --no-report -q --max-workers 1 "$@" 2>/dev/null
	rc1=$?
	for w in 2 3; do
		"$PROG" "$f" "$work/w$w.csv" --extended --no-progress --no-report -q --max-workers "$w" "$@" 2>/dev/null
		rc=$?
		if [ "$rc" -ne "$rc1" ]; then
			echo "FAIL $(basename "$f") $*: exit $rc with $w workers, $rc1 with 1"; fail=$((fail + 1)); return
		fi
		if [ "$rc1" -ne 1 ] && ! cmp -s "$ref" "$work/w$w.csv"; then
			echo "FAIL $(basename "$f") $*: output with $w workers differs from 1 worker"
			diff "$ref" "$work/w$w.csv" | head -6 | sed 's/^/    /'
			fail=$((fail + 1)); return
		fi
	done
	pass=$((pass + 1))
}

"$BUILD/nfm-gencap" --packets 300000 --seed 11 --concurrent 20000 --ipv6 30 --vlan 20 "$work/mix.pcap" 2>/dev/null
"$BUILD/nfm-gencap" --packets 300000 --seed 12 --mix short --concurrent 50000 "$work/short.pcap" 2>/dev/null
same "$work/mix.pcap"
same "$work/mix.pcap" --flow-timeout 0.05 --active-timeout 0.2
same "$work/short.pcap"
same "$work/short.pcap" --flow-timeout 0.01

if [ -f "$CORPUS/MANIFEST.tsv" ]; then
	while IFS= read -r f; do
		same "$CORPUS/$f"
	done < <(awk -F'\t' 'NR > 1 { print $1 }' "$CORPUS/MANIFEST.tsv")
else
	echo "corpus part skipped: no shared capture corpus at ../shared/pcaps"
fi
nfm_finish
