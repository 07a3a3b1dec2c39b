#!/usr/bin/env bash
# Golden end-to-end tests: captures written by tests/tools/mkgolden.c are converted with
# the command line and compared byte for byte with tests/golden/expected/.
# NFM_REGEN=1 rewrites the expected files (review the diff before committing).
. "$(dirname "$0")/../lib/preamble.sh"
EXP=tests/golden/expected

if ! "$BUILD/tools/mkgolden" "$work"; then
	echo "golden: cannot build the scenario captures"
	echo "0 passed, 1 failed"
	exit 1
fi

# case NAME EXPECTED_EXIT OUTPUT_FILE ARGS... : runs, checks the exit status and compares
# OUTPUT_FILE (relative to the work dir) with $EXP/NAME.
case_() {
	local name=$1 want=$2 out=$3; shift 3
	(cd "$work" && "$PROG" "$@" --no-progress -q > "$work/$name.stdout" 2> "$work/$name.stderr")
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; sed 's/^/    /' "$work/$name.stderr" | head -5
		fail=$((fail + 1)); return
	fi
	if [ -n "${NFM_REGEN:-}" ]; then
		mkdir -p "$EXP" && cp "$work/$out" "$EXP/$name" && pass=$((pass + 1)) || fail=$((fail + 1)); return
	fi
	if [ ! -f "$EXP/$name" ]; then
		echo "FAIL $name: no expected file $EXP/$name"; fail=$((fail + 1)); return
	fi
	if cmp -s "$work/$out" "$EXP/$name"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: output differs from $EXP/$name"
		diff "$EXP/$name" "$work/$out" | head -20 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
}

case_ basic.csv 0 basic.csv basic.pcap basic.csv
case_ basic.json 0 basic.json basic.pcap basic.json
case_ basic_extended.jsonl 0 basic_ext.jsonl basic.pcap basic_ext.jsonl --extended
case_ basic_dns.csv 0 dns.csv basic.pcap dns.csv --protocols dns
case_ basic_icmp_arp.csv 0 ia.csv basic.pcap ia.csv --protocols icmp,arp
case_ basic_split_tcp.csv 0 split_tcp.csv basic.pcap split --split-by-protocol
case_ basic_split_udp.csv 0 split_udp.csv basic.pcap split --split-by-protocol
case_ basic_split_icmp.csv 0 split_icmp.csv basic.pcap split --split-by-protocol
case_ basic_split_arp.csv 0 split_arp.csv basic.pcap split --split-by-protocol
case_ basic_preview.txt 0 basic_preview.txt.stdout basic.pcap basic_preview.csv --quick-preview 3
case_ timeouts.csv 0 timeouts.csv timeouts.pcap timeouts.csv
case_ timeouts_long.csv 0 tl.csv timeouts.pcap tl.csv --flow-timeout 200
case_ states.csv 0 states.csv states.pcap states.csv --extended
case_ v6vlan.csv 0 v6vlan.csv v6vlan.pcap v6vlan.csv --extended
case_ tunnels.csv 0 tunnels.csv tunnels.pcap tunnels.csv --extended
case_ tunnels_outer.csv 0 tunnels_outer.csv tunnels.pcap tunnels_outer.csv --extended --no-tunnels
case_ active.csv 0 active.csv active.pcap active.csv --extended --active-timeout 30
case_ snaplen.csv 0 snaplen.csv snaplen.pcap snaplen.csv
case_ nano.csv 0 nano.csv nano.pcap nano.csv
case_ frags.csv 0 frags.csv frags.pcap frags.csv
case_ fragsyn.csv 0 fragsyn.csv fragsyn.pcap fragsyn.csv
case_ empty.csv 0 empty.csv empty.pcap empty.csv
case_ empty.json 0 empty.json empty.pcap empty.json
case_ truncated.csv 3 truncated.csv truncated.pcap truncated.csv

# the split run must not create files for protocols without flows
if [ -e "$work/split_other.csv" ] || [ -e "$work/split.csv" ]; then
	echo "FAIL split: unexpected file"; fail=$((fail + 1))
else
	pass=$((pass + 1))
fi
# the truncated capture's warning names the byte offset of the damaged record
if grep -q "truncated.pcap.*byte 2450" "$work/truncated.csv.stderr"; then
	pass=$((pass + 1))
else
	echo "FAIL truncated warning:"; cat "$work/truncated.csv.stderr"; fail=$((fail + 1))
fi
# a SYN whose TCP header is split over three 8-byte fragments: one flow with both ports
# and one SYN, no malformed packet, no unmatched fragment
if awk -F, 'NR == 2 && $4 == 12345 && $5 == 8080 && $10 == 3 && $30 == 1 { ok = 1 }
	END { exit !(ok && NR == 2) }' "$work/fragsyn.csv" &&
	grep -Eq '^  malformed +0$' "$work/fragsyn_report.txt" &&
	grep -Eq '^  unmatched fragments +0$' "$work/fragsyn_report.txt"; then
	pass=$((pass + 1))
else
	echo "FAIL fragsyn: expected 1 flow 12345 -> 8080 with 3 packets and 1 SYN, nothing malformed or unmatched"
	fail=$((fail + 1))
fi
# reports account for every packet
for r in basic frags fragsyn truncated states; do
	if grep -q "accounted: yes" "$work/${r}_report.txt" 2>/dev/null; then
		pass=$((pass + 1))
	else
		echo "FAIL report $r: no 'accounted: yes'"; fail=$((fail + 1))
	fi
done
nfm_finish
