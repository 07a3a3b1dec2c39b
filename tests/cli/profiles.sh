#!/usr/bin/env bash
# Profiles on the command line: --profile, --list-profiles, --columns, --list-columns,
# --extended as an alias, the profiles' default timeouts, JSON keys of repeated names
# (checked against pandas), and the usage errors of these options.
. "$(dirname "$0")/../lib/preamble.sh"
expect_rc() { # name want actual
	if [ "$3" -eq "$2" ]; then ok; else bad "$1: exit $3, expected $2"; show_err; fi
}
# usage_error NAME WORD ARGS...: exit 2, one error line containing WORD, then the usage
# hint; no output made.
usage_error() {
	local name=$1 word=$2; shift 2
	rm -f x.csv x_report.txt
	"$PROG" "$@" > /dev/null 2>err; expect_rc "$name" 2 $?
	[ "$(grep -c '^nexusflowmeter:' err)" -eq 1 ] && grep -q '^usage:' err && ok ||
		bad "$name: one error line, then the usage hint"
	grep '^nexusflowmeter:' err | grep -qF -- "$word" && ok || bad "$name: the error does not say '$word': $(head -n 1 err)"
	[ ! -e x.csv ] && [ ! -e x_report.txt ] && ok || bad "$name: an output was written"
}
header34="flow_id,src_ip,dst_ip,src_port,dst_port,protocol,start_time,end_time,duration_seconds,total_packets,forward_packets,backward_packets,is_bidirectional,forward_backward_ratio,total_bytes,forward_bytes,backward_bytes,total_payload_bytes,forward_payload_bytes,backward_payload_bytes,packets_per_second,bytes_per_second,min_packet_size,max_packet_size,avg_packet_size,avg_inter_arrival_ms,min_inter_arrival_ms,max_inter_arrival_ms,tcp_flags,syn_count,fin_count,rst_count,ack_count,connection_state"
ext7="ip_version,vlan_id,end_reason,tunnel_type,tunnel_src,tunnel_dst,tunnel_id"

"$BUILD/tools/mkgolden" "$work" || { echo "0 passed, 1 failed"; exit 1; }
cd "$work"
cap=tunnels.pcap # tunnelled flows: the tunnel module's columns have values

# --- the program's profiles ---
"$PROG" "$cap" default.csv --no-report -q 2>err; expect_rc "default profile" 0 $?
"$PROG" "$cap" nexus.csv --no-report -q --profile nexus 2>err; expect_rc "--profile nexus" 0 $?
[ "$(head -n 1 nexus.csv)" = "$header34" ] && cmp -s default.csv nexus.csv && ok ||
	bad "--profile nexus is the default: the 34 columns"
"$PROG" "$cap" ext.csv --no-report -q --extended 2>err; expect_rc "--extended" 0 $?
"$PROG" "$cap" prof_ext.csv --no-report -q --profile=extended 2>err; expect_rc "--profile=extended" 0 $?
[ "$(head -n 1 ext.csv)" = "$header34,$ext7" ] && ok || bad "--extended: 41 columns in order"
cmp -s ext.csv prof_ext.csv && ok || bad "--extended and --profile extended differ"
"$PROG" "$cap" both.csv --no-report -q --extended --profile extended 2>err; expect_rc "--extended --profile extended" 0 $?
[ "$(cut -d, -f1-34 ext.csv | md5sum)" = "$(md5sum < nexus.csv)" ] && ok ||
	bad "extended: its first 34 columns are not nexus"

# --- --list-profiles ---
"$PROG" --list-profiles > profiles.txt 2>err; expect_rc "--list-profiles" 0 $?
head -n 1 profiles.txt | grep -q 'profile.*columns.*bytes/flow.*idle.*active.*description' && ok ||
	bad "--list-profiles: header line"
awk '$1 == "nexus" && $2 == 34 && $3 > 200 && $4 == "60" && $6 == "1800"' profiles.txt | grep -q . && ok ||
	bad "--list-profiles: nexus, 34 columns, bytes per flow, 60 s / 1800 s: $(grep '^nexus' profiles.txt)"
nb=$(awk '$1 == "nexus" {print $3}' profiles.txt)
eb=$(awk '$1 == "extended" {print $3}' profiles.txt)
[ "$(awk '$1 == "extended" {print $2}' profiles.txt)" = 41 ] && [ "$eb" -gt "$nb" ] && ok ||
	bad "--list-profiles: extended has 41 columns and more bytes per flow than nexus"

# --- every profile: --list-columns matches its output's header, and its timeouts are the
# run's defaults unless given ---
tail -n +2 profiles.txt | while read -r name ncols bytes idle iu active au rest; do
	"$PROG" --list-columns --profile "$name" > "cols_$name.txt" 2>err
	[ "$(wc -l < "cols_$name.txt")" -eq "$ncols" ] || echo "FAIL --list-columns --profile $name: not $ncols lines"
	"$PROG" "$cap" "out_$name.csv" --no-report -q --profile "$name" 2>err ||
		echo "FAIL --profile $name: exit $?"
	want=$(sed 's/  .*//' "cols_$name.txt" | paste -sd, -) # the name ends at two spaces
	got=$(head -n 1 "out_$name.csv" | tr -d '"')
	[ "$got" = "$want" ] || echo "FAIL --profile $name: header is not the --list-columns names"
	[ "$idle" = off ] && idle=0
	[ "$active" = off ] && active=0
	"$PROG" "$cap" v.csv --no-report --profile "$name" -v 2>err >/dev/null
	grep -q "flow timeout $idle s, active timeout $active s" err ||
		echo "FAIL --profile $name: timeouts are not $idle / $active s: $(grep timeout err)"
	"$PROG" "$cap" v.csv --no-report --profile "$name" -v --flow-timeout 7 --active-timeout 0.5 2>err >/dev/null
	grep -q "flow timeout 7 s, active timeout 0.5 s" err ||
		echo "FAIL --profile $name: --flow-timeout / --active-timeout do not override its timeouts"
done > per_profile.txt
if [ -s per_profile.txt ]; then bad "per profile:"; cat per_profile.txt; else ok; fi
[ "$(tail -n +2 profiles.txt | wc -l)" -ge 2 ] && ok || bad "--list-profiles lists nexus and extended"
[ "$(wc -l < cols_nexus.txt)" -eq 34 ] && [ "$(wc -l < cols_extended.txt)" -eq 41 ] && ok ||
	bad "--list-columns: 34 for nexus, 41 for extended"
"$PROG" --list-columns > cols.txt; cmp -s cols.txt cols_nexus.txt && ok || bad "--list-columns lists nexus by default"

# --- --columns: any columns, in the order given, with the modules they need ---
"$PROG" "$cap" pick.csv --no-report -q --columns tunnel_type,src_ip,total_bytes,end_reason 2>err
expect_rc "--columns" 0 $?
[ "$(head -n 1 pick.csv)" = "tunnel_type,src_ip,total_bytes,end_reason" ] && ok || bad "--columns: header"
# the same values as the extended profile's columns 38, 2, 15, 37 (no commas in them)
if ! grep -q '"' ext.csv; then
	awk -F, 'NR > 1 {print $38 "," $2 "," $15 "," $37}' ext.csv > want.txt
	tail -n +2 pick.csv > got.txt
	cmp -s want.txt got.txt && [ -s got.txt ] && ok || bad "--columns: values differ from the extended profile's"
	grep -q '^[A-Za-z]' got.txt && ok || bad "--columns: no tunnel_type value in $cap"
else
	bad "extended output has quoted fields: cannot compare with cut"
fi
"$PROG" --list-columns --columns tunnel_id,src_ip > lc.txt 2>err; expect_rc "--list-columns --columns" 0 $?
[ "$(sed 's/  .*//' lc.txt | paste -sd, -)" = "tunnel_id,src_ip" ] && ok || bad "--list-columns --columns lists those"
# --merge adds source_file after the columns given
mkdir -p two && cp basic.pcap two/a.pcap && cp basic.pcap two/b.pcap
"$PROG" -d two -c mout --merge --no-report -q --columns src_ip,dst_port 2>err; expect_rc "--columns --merge" 0 $?
[ "$(head -n 1 mout/merged_flows.csv)" = "src_ip,dst_port,source_file" ] && ok || bad "--columns --merge: source_file last"
"$PROG" -d two -c mext --merge --no-report -q --extended 2>err
[ "$(head -n 1 mext/merged_flows.csv)" = "$header34,source_file,$ext7" ] && ok ||
	bad "--extended --merge: source_file where it always was"

# --- JSON keys of repeated names: .1, .2 as pandas reads the CSV header ---
"$PROG" "$cap" dup.csv --no-report -q --columns src_ip,total_bytes,src_ip,src_ip.1 2>err
expect_rc "--columns with a repeated name" 2 $?   # src_ip.1 is no column
"$PROG" "$cap" dup.csv --no-report -q --columns src_ip,total_bytes,src_ip,dst_ip,src_ip 2>err
expect_rc "--columns repeated (csv)" 0 $?
"$PROG" "$cap" dup.json --no-report -q --columns src_ip,total_bytes,src_ip,dst_ip,src_ip 2>err
"$PROG" "$cap" dup.jsonl --no-report -q --columns src_ip,total_bytes,src_ip,dst_ip,src_ip 2>err
[ "$(head -n 1 dup.csv)" = "src_ip,total_bytes,src_ip,dst_ip,src_ip" ] && ok || bad "csv keeps repeated names"
head -n 1 dup.jsonl | grep -q '^{"src_ip":"[^"]*","total_bytes":[0-9]*,"src_ip.1":"[^"]*","dst_ip":"[^"]*","src_ip.2":"' && ok ||
	bad "jsonl: the repeats are src_ip.1, src_ip.2: $(head -c 200 dup.jsonl)"
pandas_py=""
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import pandas' 2>/dev/null; then pandas_py=$py; break; fi
done
if [ -n "$pandas_py" ]; then
	"$pandas_py" - dup.csv dup.json dup.jsonl <<'EOF' && ok || bad "pandas: the JSON keys are not the names pandas gives the CSV columns"
import json, sys
import pandas as pd
csv = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
arr = json.load(open(sys.argv[2]))
lines = [json.loads(l) for l in open(sys.argv[3])]
ok = len(arr) == len(csv) == len(lines) > 0
for rec in (arr[0], lines[0]):
    ok = ok and list(rec.keys()) == list(csv.columns)
ok = ok and all(str(arr[i]["src_ip.2"]) == csv["src_ip.2"][i] for i in range(len(arr)))
sys.exit(0 if ok else 1)
EOF
else
	echo "note: no python3 with pandas; the pandas check of JSON keys is skipped"
fi

# --- memory accounting: --chunk-size divides by the bytes one flow of the run takes ---
"$BUILD/nfm-gencap" --packets 40000 --concurrent 8000 --seed 3 many.pcap >/dev/null 2>&1 ||
	bad "cannot generate many.pcap"
# mem_check REPORT PYTHON-CONDITION: m is the report's "memory" object, f its "flows"
mem_check() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); m=d['memory']; f=d['flows']; sys.exit(0 if ($2) else 1)" "$1"
}
for name in nexus extended; do
	b=$(awk -v n=$name '$1 == n {print $3}' profiles.txt)
	cap=$((1048576 / b))
	"$PROG" many.pcap "m_$name.csv" --profile "$name" --chunk-size 1 --max-workers 1 -q 2>err
	expect_rc "--chunk-size 1, $name" 0 $?
	mem_check "m_${name}_report.json" "m['profile'] == '$name' and m['bytes_per_flow'] == $b and m['active_flow_cap'] == $cap and m['cap_from'] == 'chunk-size' and m['chunk_size_mib'] == 1" && ok ||
		bad "--chunk-size 1, $name: report memory is not $b bytes per flow, cap $cap"
	# the cap holds exactly: one worker holds up to the cap, then evicts
	mem_check "m_${name}_report.json" "f['peak_active'] == $cap and f['by_end_reason']['evicted'] > 0" && ok ||
		bad "--chunk-size 1, $name: peak active flows is not the cap $cap"
	grep -q "^bytes per active flow  *$b\$" "m_${name}_report.txt" &&
		grep -q "^active-flow cap  *$cap\$" "m_${name}_report.txt" &&
		grep -q "(--chunk-size 1 MiB / $b bytes per active flow)" "m_${name}_report.txt" && ok ||
		bad "--chunk-size 1, $name: text report: bytes per flow, cap and where it came from"
done
[ "$(awk '$1 == "nexus" {print $3}' profiles.txt)" -ne "$(awk '$1 == "extended" {print $3}' profiles.txt)" ] && ok ||
	bad "nexus and extended take the same bytes per flow: the test cannot tell the caps apart"
# the default budget
"$PROG" many.pcap d.csv -q 2>err
mem_check d_report.json "m['active_flow_cap'] == 1073741824 // m['bytes_per_flow'] and m['chunk_size_mib'] == 1024 and not m['columns_given']" && ok ||
	bad "default --chunk-size 1024: the cap is not 1 GiB / bytes per flow"
# outputs add modules: NetFlow records take more per flow
"$PROG" many.pcap nf.json -of nfdump -q 2>err; expect_rc "-of nfdump" 0 $?
mem_check nf_report.json "m['bytes_per_flow'] > $nb and m['active_flow_cap'] == 1073741824 // m['bytes_per_flow']" && ok ||
	bad "-of nfdump: the NetFlow module's state is not counted"
# --columns: only the modules of the columns
"$PROG" many.pcap c.csv --columns src_ip,tunnel_id -q 2>err
mem_check c_report.json "m['columns_given'] and m['bytes_per_flow'] == $eb" && ok ||
	bad "--columns with a tunnel column: bytes per flow are not the extended profile's"
"$PROG" many.pcap c2.csv --profile extended --columns src_ip,total_bytes -q 2>err
mem_check c2_report.json "m['profile'] == 'extended' and m['bytes_per_flow'] == $nb" && ok ||
	bad "--columns of engine fields: bytes per flow are not those of no module"
# --max-active-flows sets the cap directly; -d shares it
"$PROG" many.pcap x10.csv --max-active-flows 10 -q 2>err
mem_check x10_report.json "m['active_flow_cap'] == 10 and m['cap_from'] == 'max-active-flows' and m['chunk_size_mib'] is None" && ok ||
	bad "--max-active-flows 10: report memory"
grep -q '(--max-active-flows)' x10_report.txt && ok || bad "--max-active-flows: text report says where the cap came from"
mkdir -p caps && cp many.pcap caps/a.pcap && cp many.pcap caps/b.pcap
"$PROG" -d caps -c capsout --max-active-flows 100 --max-workers 2 -q 2>err; expect_rc "-d shared cap" 0 $?
mem_check capsout/a_report.json "m['active_flow_cap'] == 50 and m['run_active_flow_cap'] == 100" && ok ||
	bad "-d: each capture's share of the cap is not in its report"
grep -q "this capture's share of the run's cap 100" capsout/a_report.txt && ok || bad "-d: text report: the share"
"$PROG" many.pcap v.csv --no-report -v 2>err
grep -q "profile nexus, flow timeout 60 s, active timeout 1800 s, $nb bytes per active flow, max active flows $((1073741824 / nb)) (--chunk-size / bytes per flow)" err && ok ||
	bad "--verbose: the settings line: $(head -n 1 err)"

# the documents give the nexus figures of this build: bytes per flow, and the default cap
ncap=$((1073741824 / nb))
ncap_sep=$(echo "$ncap" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta')
for doc in README.md docs/flows.md docs/nexusflowmeter.1 docs/reliability.md; do
	grep -qw "$nb" "$ROOT/$doc" && ok || bad "$doc: not the nexus figure of $nb bytes per active flow"
	[ "$doc" = README.md ] || grep -q "$ncap\|$ncap_sep" "$ROOT/$doc" && ok ||
		bad "$doc: not the default cap $ncap ($ncap_sep)"
done

# --- make docs: the generated part of profiles.md is rewritten, the rest kept ---
{ echo "hand-written top"; echo "<!-- profiles:begin -->"; echo "stale line"
  echo "<!-- profiles:end -->"; echo "hand-written bottom"; } > doc.md
"$BUILD/tools/mkdocs" doc.md 2>err; expect_rc "mkdocs" 0 $?
sed -n '/<!-- profiles:begin -->/,/<!-- profiles:end -->/p' "$ROOT/docs/profiles.md" > want_gen.txt
{ echo "hand-written top"; cat want_gen.txt; echo "hand-written bottom"; } > want_doc.md
cmp -s doc.md want_doc.md && ok || bad "mkdocs: the generated part is not the registry's, or the rest was not kept"
grep -q '^## extended$' doc.md && ok || bad "mkdocs: no section for extended"
echo "no markers" > nomark.md
"$BUILD/tools/mkdocs" nomark.md 2>err; expect_rc "mkdocs without markers" 1 $?
[ "$(cat nomark.md)" = "no markers" ] && ok || bad "mkdocs changed a file without markers"

# --- usage errors ---
usage_error "--profile unknown" "'nosuch'" "$cap" x.csv --profile nosuch
grep -q 'nexus, extended' err && ok || bad "--profile unknown: the error lists the profiles"
usage_error "--profile empty" "--profile" "$cap" x.csv --profile ''
usage_error "--profile case" "'Nexus'" "$cap" x.csv --profile Nexus
usage_error "--extended with another profile" "--extended" "$cap" x.csv --profile nexus --extended
usage_error "two profiles" "--profile" "$cap" x.csv --profile extended --profile nexus
usage_error "--columns unknown" "'nosuch'" "$cap" x.csv --columns src_ip,nosuch
grep -q 'docs/profiles.md' err && grep -q -- '--list-columns' err && ok || bad "--columns unknown: the error says where to look"
usage_error "--columns empty" "--columns" "$cap" x.csv --columns ''
usage_error "--columns empty name" "between commas" "$cap" x.csv --columns src_ip,,dst_ip
usage_error "--columns trailing comma" "after the last comma" "$cap" x.csv --columns src_ip,
usage_error "--columns space" "' dst_ip'" "$cap" x.csv --columns 'src_ip, dst_ip'
usage_error "--columns case" "'SRC_IP'" "$cap" x.csv --columns SRC_IP
usage_error "--list-columns unknown profile" "'nosuch'" --list-columns --profile nosuch
"$PROG" "$cap" x.csv --columns $'src\nip' 2>err; expect_rc "--columns newline" 2 $?
[ "$(wc -l < err)" -eq 4 ] && grep -qF "'src\\nip'" err && ok || bad "--columns newline: one error line"

nfm_finish
