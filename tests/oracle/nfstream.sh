#!/usr/bin/env bash
# The nfstream profile end to end: --splt on the command line (bounds, columns, JSON
# arrays, the same rows for any number of workers), then the independent oracle
# (nfstream_oracle.py: tshark + pandas, every column of every flow on the shared corpus).
# The oracle needs pandas: python3, or Debian's /usr/bin/python3 when another python3
# comes first on PATH; it skips with a message without pandas, tshark or the corpus.
. "$(dirname "$0")/../lib/preamble.sh"
expect_rc() { # name want actual
	if [ "$3" -eq "$2" ]; then ok; else bad "$1: exit $3, expected $2"; show_err; fi
}
"$BUILD/tools/mkgolden" "$work" > /dev/null || { echo "0 passed, 1 failed"; exit 1; }
cd "$work" || exit 1
cap=tunnels.pcap

# --- --splt N: 1 to 255 ---
for n in 0 256 x; do
	"$PROG" "$cap" x.csv --no-report -q --profile nfstream --splt "$n" 2>err; expect_rc "--splt $n" 2 $?
	grep -q -- '--splt' err && [ ! -e x.csv ] && ok || bad "--splt $n: the error names the option, no output"
done
"$PROG" "$cap" s1.csv --no-report -q --profile nfstream --splt 1 2>err; expect_rc "--splt 1" 0 $?
"$PROG" "$cap" s255.csv --no-report -q --profile nfstream --splt 255 2>err; expect_rc "--splt 255" 0 $?
"$PROG" "$cap" plain.csv --no-report -q --profile nfstream 2>err; expect_rc "--profile nfstream" 0 $?
[ "$(head -n 1 s1.csv)" = "$(head -n 1 plain.csv),splt_direction,splt_ps,splt_piat_ms" ] && ok ||
	bad "--splt: its three columns come after the profile's"
[ "$(wc -l < s1.csv)" -eq "$(wc -l < plain.csv)" ] && [ "$(wc -l < plain.csv)" -gt 1 ] && ok ||
	bad "--splt: the same flows"
"$PROG" --list-columns --profile nfstream --splt 2 > cols.txt 2>err; expect_rc "--list-columns --splt" 0 $?
[ "$(tail -n 3 cols.txt | cut -d' ' -f1 | paste -sd, -)" = "splt_direction,splt_ps,splt_piat_ms" ] &&
	[ "$(wc -l < cols.txt)" -eq 76 ] && ok || bad "--list-columns shows the --splt columns"
"$PROG" "$cap" cols.csv --no-report -q --columns src_ip,dst_ip --splt 2 2>err; expect_rc "--columns with --splt" 0 $?
[ "$(head -n 1 cols.csv)" = "src_ip,dst_ip,splt_direction,splt_ps,splt_piat_ms" ] && ok ||
	bad "--columns with --splt: $(head -n 1 cols.csv)"

# --- the same rows for 1 and 2 workers, in CSV and JSON ---
for cap2 in "$cap" states.pcap frags.pcap timeouts.pcap v6vlan.pcap; do
	"$PROG" "$cap2" "w1_$cap2.json" --no-report -q --profile nfstream --splt 8 --max-workers 1 2>err
	expect_rc "json, 1 worker" 0 $?
	"$PROG" "$cap2" "w2_$cap2.json" --no-report -q --profile nfstream --splt 8 --max-workers 2 2>err
	expect_rc "json, 2 workers" 0 $?
	cmp -s "w1_$cap2.json" "w2_$cap2.json" && ok || bad "$cap2: 1 and 2 workers differ"
done
python3 - w1_*.json <<'PY' && ok || bad "JSON: lists are arrays of 8 integers, expiration_id an integer"
import json, sys
rows = [r for name in sys.argv[1:] for r in json.load(open(name))]
assert len(rows) > 10, "too few rows"
for r in rows:
    assert all(isinstance(r[k], list) and len(r[k]) == 8 and all(isinstance(x, int) for x in r[k])
               for k in ("splt_direction", "splt_ps", "splt_piat_ms")), r
    assert isinstance(r["expiration_id"], int) and r["expiration_id"] in (-1, 0, 1), r
    n = r["bidirectional_packets"]
    assert r["splt_ps"][:min(n, 8)].count(-1) == 0 and r["splt_ps"][min(n, 8):] == [-1] * (8 - min(n, 8)), r
    assert r["src2dst_packets"] + r["dst2src_packets"] == n, r
PY

# --- the oracle ---
py=""
for cand in python3 /usr/bin/python3; do
	if "$cand" -c 'import pandas' > /dev/null 2>&1; then py=$cand; break; fi
done
if [ -z "$py" ]; then
	echo "oracle: skipped: no python3 with pandas (Debian: python3-pandas)"
else
	NFM_PROG="$PROG" NFM_SHARED="${CORPUS%/pcaps}" "$py" "$ROOT/tests/oracle/nfstream_oracle.py" > oracle.txt 2>&1
	rc=$?
	grep -v -E '^[0-9]+ passed, [0-9]+ failed$' oracle.txt
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' oracle.txt | tail -n 1)
	if [ -z "$line" ]; then
		bad "oracle: no result line (exit $rc)"
	else
		pass=$((pass + ${line%% passed*}))
		f=${line##*passed, }
		fail=$((fail + ${f%% failed*}))
		[ "$rc" -eq 0 ] || [ "${f%% failed*}" -ne 0 ] || bad "oracle: exit $rc"
	fi
fi
nfm_finish
