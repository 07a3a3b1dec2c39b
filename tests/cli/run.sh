#!/usr/bin/env bash
# Command-line tests: the original tool's documented examples, batch modes, formats,
# compressed and standard input, errors and exit codes, atomic outputs, help/man page.
. "$(dirname "$0")/../lib/preamble.sh"
expect_rc() { # name want actual
	if [ "$3" -eq "$2" ]; then ok; else bad "$1: exit $3, expected $2"; show_err; fi
}
header34="flow_id,src_ip,dst_ip,src_port,dst_port,protocol,start_time,end_time,duration_seconds,total_packets,forward_packets,backward_packets,is_bidirectional,forward_backward_ratio,total_bytes,forward_bytes,backward_bytes,total_payload_bytes,forward_payload_bytes,backward_payload_bytes,packets_per_second,bytes_per_second,min_packet_size,max_packet_size,avg_packet_size,avg_inter_arrival_ms,min_inter_arrival_ms,max_inter_arrival_ms,tcp_flags,syn_count,fin_count,rst_count,ack_count,connection_state"

"$BUILD/tools/mkgolden" "$work" || { echo "0 passed, 1 failed"; exit 1; }
"$BUILD/nfm-gencap" --packets 3000 --seed 7 "$work/capture.pcap" >/dev/null 2>&1 ||
	{ echo "cannot generate capture"; echo "0 passed, 1 failed"; exit 1; }
cd "$work"
mkdir -p pcaps
cp capture.pcap pcaps/a.pcap
cp basic.pcap pcaps/B.PCAP
cp states.pcap pcaps/c.cap
gzip -c timeouts.pcap > pcaps/d.pcap.gz
echo "not a capture" > pcaps/notes.txt

# --- the examples of the original documentation ---
"$PROG" capture.pcap flows.csv --no-progress 2>err; expect_rc "single csv" 0 $?
[ "$(head -n 1 flows.csv)" = "$header34" ] && ok || bad "34 columns in order"
[ "$(wc -l < flows.csv)" -gt 10 ] && ok || bad "single csv has rows"
[ -f flows_report.txt ] && [ -f flows_report.json ] && ok || bad "report beside the output"

"$PROG" -d ./pcaps/ -c ./out/ 2>err; expect_rc "-d -c" 0 $?
for f in a.csv B.csv c.csv d.csv; do [ -f "out/$f" ] && ok || bad "-d -c: out/$f missing"; done
[ ! -e out/notes.csv ] && ok || bad "-d converted a non-capture"

"$PROG" -d ./pcaps/ -c ./merged/ --merge 2>err; expect_rc "--merge" 0 $?
if [ -f merged/merged_flows.csv ]; then
	head -n 1 merged/merged_flows.csv | grep -q ',connection_state,source_file$' && ok || bad "merge: source_file column"
	for f in a.pcap B.PCAP c.cap d.pcap.gz; do grep -q ",$f\$" merged/merged_flows.csv && ok || bad "merge: no rows from $f"; done
else
	bad "merge: merged/merged_flows.csv missing"
fi

"$PROG" -d ./pcaps/ -c ./jout/ --output-format json 2>err; expect_rc "-d json" 0 $?
python3 -c "import json,sys; d=json.load(open('jout/a.json')); sys.exit(0 if len(d)>10 and len(d[0])==34 else 1)" && ok || bad "json output parses with 34 keys"

"$PROG" capture.pcap flows.json --output-format json 2>err; expect_rc "--output-format json" 0 $?
"$PROG" capture.pcap flows2.json -of json 2>err; expect_rc "-of json" 0 $?
cmp -s flows.json flows2.json && ok || bad "-of and --output-format agree"
"$PROG" capture.pcap inferred.json 2>err; expect_rc "format from extension" 0 $?
cmp -s flows.json inferred.json && ok || bad "format inferred from .json"

"$PROG" capture.pcap flows --split-by-protocol 2>err; expect_rc "--split-by-protocol" 0 $?
for p in tcp udp icmp; do [ -f "flows_$p.csv" ] && ok || bad "split: flows_$p.csv missing"; done

"$PROG" capture.pcap flows.csv --quick-preview 5 > preview.txt 2>err; expect_rc "--quick-preview" 0 $?
[ "$(grep -c . preview.txt)" -eq 7 ] && ok || bad "preview prints header, rule and 5 rows"
"$PROG" capture.pcap nopreview.csv --no-report 2>err
cmp -s flows.csv nopreview.csv && ok || bad "--quick-preview changes the output file"

"$PROG" capture.pcap tcp_flows.xlsx --output-format xlsx --protocols tcp 2>err; expect_rc "xlsx tcp" 0 $?
head -c 2 tcp_flows.xlsx | grep -q PK && ok || bad "xlsx is a zip"
# A FIFO cannot seek: the workbook is written strictly in order, whole and readable.
mkfifo xlsx.fifo
timeout 60 cat xlsx.fifo > from_fifo.xlsx &  # bounded: the writer may never open it
reader=$!
"$PROG" capture.pcap xlsx.fifo -of xlsx --protocols tcp --no-report 2>err; expect_rc "xlsx to a FIFO" 0 $?
wait "$reader"
cmp -s tcp_flows.xlsx from_fifo.xlsx && ok || bad "xlsx through a FIFO differs from the file"
rm -f xlsx.fifo from_fifo.xlsx

mkdir -p reports
"$PROG" capture.pcap flows.csv --report-dir ./reports/ 2>err; expect_rc "--report-dir" 0 $?
[ -f reports/flows_report.txt ] && [ -f reports/flows_report.json ] && ok || bad "reports in --report-dir"
"$PROG" capture.pcap flows.csv --stream --chunk-size 512 --max-workers 5 2>err; expect_rc "stream/chunk/workers accepted" 0 $?
cmp -s flows.csv out/a.csv && ok || bad "same rows in single and batch mode"

# --- protocols, limits ---
"$PROG" capture.pcap tcp.csv --protocols tcp --no-report 2>err; expect_rc "--protocols tcp" 0 $?
[ "$(tail -n +2 tcp.csv | cut -d, -f6 | sort -u)" = "TCP" ] && ok || bad "--protocols tcp keeps only TCP"
"$PROG" capture.pcap dns.csv --protocols dns --no-report 2>err; expect_rc "--protocols dns" 0 $?
[ "$(wc -l < dns.csv)" -gt 1 ] && [ -z "$(tail -n +2 dns.csv | awk -F, '$4!=53 && $5!=53 && $4!=5353 && $5!=5353 && $4!=5355 && $5!=5355')" ] && ok || bad "--protocols dns keeps DNS flows only"
"$PROG" capture.pcap max.csv --max-flows 7 --no-report 2>err; expect_rc "--max-flows" 0 $?
[ "$(wc -l < max.csv)" -eq 8 ] && ok || bad "--max-flows 7 writes 7 rows"

# --- input variants ---
gzip -c capture.pcap > capture.pcap.gz
"$PROG" capture.pcap.gz gz.csv --no-report 2>err; expect_rc "gzip input" 0 $?
"$PROG" capture.pcap plain.csv --no-report 2>err
cmp -s gz.csv plain.csv && ok || bad "gzip input gives the same rows"
if command -v zstd >/dev/null; then
	zstd -q -c capture.pcap > capture.pcap.zst
	"$PROG" capture.pcap.zst zst.csv --no-report 2>err; expect_rc "zstd input" 0 $?
	cmp -s zst.csv plain.csv && ok || bad "zstd input gives the same rows"
fi
"$PROG" - stdin.csv --no-report < capture.pcap 2>err; expect_rc "stdin input" 0 $?
cmp -s stdin.csv plain.csv && ok || bad "stdin input gives the same rows"
"$PROG" capture.pcap - --no-report > stdout.csv 2>err; expect_rc "stdout output" 0 $?
cmp -s stdout.csv plain.csv && ok || bad "stdout output gives the same rows"
"$PROG" empty.pcap empty.csv 2>err; expect_rc "empty capture" 0 $?
[ "$(cat empty.csv)" = "$header34" ] && ok || bad "empty capture gives a header-only csv"

# --- errors ---
"$PROG" missing.pcap x.csv 2>err; expect_rc "missing input" 1 $?
grep -q "missing.pcap" err && [ "$(wc -l < err)" -eq 1 ] && ok || bad "missing input: one line naming the file"
[ ! -e x.csv ] && ok || bad "missing input leaves no output"
"$PROG" pcaps/notes.txt x.csv 2>err; expect_rc "not a capture" 1 $?
grep -q "notes.txt: not a pcap or pcapng" err && ok || bad "not a capture: message"
[ ! -e x.csv ] && ls -a | grep -q '^\.x\.csv' && bad "temp file left" || ok
"$PROG" truncated.pcap t.csv 2>err; expect_rc "truncated capture" 3 $?
grep -q "warning:.*truncated.pcap.*byte" err && [ -s t.csv ] && ok || bad "truncated: warning with offset, output kept"
"$PROG" --bogus 2>err; expect_rc "unknown flag" 2 $?
grep -q "usage:" err && [ "$(wc -l < err)" -le 4 ] && ok || bad "unknown flag: short usage"
"$PROG" capture.pcap 2>err; expect_rc "missing output" 2 $?
"$PROG" capture.pcap x.csv --flow-timeout abc 2>err; expect_rc "bad number" 2 $?
"$PROG" capture.pcap x.csv -of parquet 2>err; expect_rc "bad format" 2 $?
"$PROG" capture.pcap x.csv --protocols tcp,foo 2>err; expect_rc "bad protocol" 2 $?
mkdir -p ro && chmod 555 ro
if [ "$(id -u)" -ne 0 ]; then
	"$PROG" capture.pcap ro/x.csv 2>err; expect_rc "unwritable output" 1 $?
fi
"$PROG" capture.pcap no/such/dir/x.csv 2>err; expect_rc "output in a missing directory" 1 $?
grep -q "no/such/dir/x.csv" err && ok || bad "unwritable output: message names the file"
"$PROG" -d ./nonexistent/ -c ./o2/ 2>err; expect_rc "missing directory" 1 $?
mkdir -p mixed && cp capture.pcap mixed/good.pcap && echo junk > mixed/bad.pcap
"$PROG" -d ./mixed/ -c ./o3/ 2>err; expect_rc "batch with a bad file" 3 $?
[ -f o3/good.csv ] && [ ! -e o3/bad.csv ] && ok || bad "batch: good file converted, bad one not"

# --- option values: one syntax for numbers, one for lists ---
# usage_error NAME ARGS...: exit 2, one error line (then the usage hint), no output made.
usage_error() {
	local name=$1; shift
	rm -f x.csv x_report.txt
	"$PROG" "$@" > /dev/null 2>err; expect_rc "$name" 2 $?
	[ "$(grep -c '^nexusflowmeter:' err)" -eq 1 ] && grep -q '^usage:' err && ok ||
		bad "$name: one error line, then the usage hint"
	[ ! -e x.csv ] && [ ! -e x_report.txt ] && ok || bad "$name: an output was written"
}
# bad_value OPTION VALUE WORD: a usage error whose line names the option, the value (in
# quotes) and WORD (the maximum, or for a list the names accepted).
bad_value() {
	usage_error "$1 '$2'" capture.pcap x.csv "$1" "$2"
	local line; line=$(grep '^nexusflowmeter:' err)
	case "$line" in
	*"$1"*"'$2'"*"$3"*) ok ;;
	*) bad "$1 '$2': the error should name the option, the value and $3: $line" ;;
	esac
}
good_value() { # OPTION VALUE: accepted
	"$PROG" capture.pcap ok.csv --no-report -q "$1" "$2" 2>err; expect_rc "$1 '$2' accepted" 0 $?
}
for v in 0x10 1e10 1E2 ' 5' '5 ' +5 -1 -0 .5 5. 1..2 '' inf nan 1000000000.5 1000000001 \
	99999999999999999999 0.0000000004 0.00000000049; do
	bad_value --flow-timeout "$v" 1000000000
done
bad_value --active-timeout 0x10 1000000000
bad_value --active-timeout 0.0000000001 1000000000
for v in 0x10 ' 5' '5 ' +5 0 257 1e2 3.0 -1 ''; do bad_value --max-workers "$v" 256; done
bad_value --max-flows 0 18446744073709551615
bad_value --max-flows 18446744073709551616 18446744073709551615
bad_value --max-flows ' 5' 18446744073709551615
bad_value --max-active-flows 0x10 18446744073709551615
bad_value --chunk-size 4194305 4194304
bad_value --quick-preview 100001 100000
for v in tcp, ,tcp tcp,,udp '' , 'tcp, udp' foo tcp,foo; do bad_value --protocols "$v" icmpv6; done
bad_value -of parquet xlsx
# a control byte in a value is shown escaped: the error stays one line
"$PROG" capture.pcap x.csv --flow-timeout $'5\n' 2>err; expect_rc "newline in a number" 2 $?
[ "$(wc -l < err)" -eq 4 ] && grep -qF "'5\\x0a'" err && ok || bad "newline in a number: one error line"
"$PROG" capture.pcap x.csv --protocols $'tcp,x\ny' 2>err; expect_rc "newline in a list" 2 $?
[ "$(wc -l < err)" -eq 4 ] && grep -qF "unknown name 'x\\x0ay'" err && ok || bad "newline in a list: one error line"
for v in 0 0.000 0.0000000005 2.5 007 1000000000 1000000000.000; do good_value --flow-timeout "$v"; done
good_value --active-timeout 0.25
good_value --max-workers 256
good_value --max-flows 18446744073709551615
good_value --protocols TCP,Udp,icmpV6
good_value -of CSV
"$PROG" capture.pcap icmp6.csv --no-report -q --protocols icmpv6 2>err; expect_rc "--protocols icmpv6" 0 $?
"$PROG" capture.pcap icmp.csv --no-report -q --protocols icmp 2>err
cmp -s icmp.csv icmp6.csv && ok || bad "icmpv6 is an alias of icmp"
"$PROG" --help > help.txt 2>&1
grep -q '^  SECONDS' help.txt && grep -q '^  LIST' help.txt && grep -q '^  N ' help.txt && ok ||
	bad "--help documents the syntax of N, SECONDS and LIST"
for doc in help.txt "$ROOT/docs/nexusflowmeter.1" "$ROOT/README.md"; do
	grep -q 'icmpv6' "$doc" && grep -qi 'case-insensitive' "$doc" && grep -q '1000000000' "$doc" && ok ||
		bad "$(basename "$doc"): icmpv6, list and number syntax documented"
done

# --- empty names are usage errors ---
usage_error "empty output_file" capture.pcap ''
[ ! -e _report.txt ] && ok || bad "empty output_file: a report was written"
usage_error "empty pcap_file" '' x.csv
usage_error "empty --report-dir" capture.pcap x.csv --report-dir ''
usage_error "empty --report-dir=" capture.pcap x.csv --report-dir=
usage_error "empty -d" -d '' -c ./o4/
usage_error "empty -c" -d ./pcaps/ -c ''
usage_error "empty --merge output" -d ./pcaps/ -c ./o5/ --merge ''
[ ! -e o4 ] && [ ! -e o5 ] && ok || bad "empty names: a directory was created"

# --- --split-by-protocol needs a file name to build on ---
usage_error "--split-by-protocol to stdout" capture.pcap - --split-by-protocol
grep -q -- "--split-by-protocol" err && ok || bad "split to stdout: the error names the option"
! ls -- -_* > /dev/null 2>&1 && ok || bad "split to stdout created -_*.csv"

# --- the active-flow cap is exact for any worker count, and evictions are reported ---
# report_check JSON PYTHON-CONDITION-ON-f: f is the report's "flows" object
report_check() {
	python3 -c "import json,sys; f=json.load(open(sys.argv[1]))['flows']; sys.exit(0 if ($2) else 1)" "$1"
}
"$PROG" capture.pcap cap1.csv --max-active-flows 1 --max-workers 8 -v --no-progress 2>err
expect_rc "cap 1, 8 workers" 0 $?
report_check cap1_report.json "f['peak_active'] <= 1 and f['by_end_reason']['evicted'] > 0" && ok ||
	bad "cap 1, 8 workers: report peak_active above the cap, or no eviction reported"
grep -q 'peak 1 active flows, [1-9][0-9]* evicted$' err && ok || bad "cap 1, 8 workers: verbose line: peak 1, evictions"
grep -q ' -> cap1.csv .*; [1-9][0-9]* evicted by the active-flow cap (records depend on --max-workers)$' err && ok ||
	bad "cap 1, 8 workers: the summary line says flows were evicted"
"$PROG" capture.pcap cap1w1.csv --max-active-flows 1 --max-workers 1 --no-report -q 2>err
cmp -s cap1.csv cap1w1.csv && ok || bad "a cap of 1 uses one worker, whatever --max-workers"
"$PROG" capture.pcap cap5.csv --max-active-flows 5 --max-workers 2 2>err
report_check cap5_report.json "f['peak_active'] == 5" && ok || bad "cap 5, 2 workers: quotas add up to the cap"
"$PROG" capture.pcap nocap.csv --no-report --max-workers 2 2>err
! grep -q 'evicted' err && ok || bad "no cap reached: the summary line mentions evictions"

# --- SIGINT: clean stop, no output under the final name ---
"$BUILD/nfm-gencap" --packets 3000000 --seed 3 big.pcap >/dev/null 2>&1
"$PROG" big.pcap big.csv --no-progress 2>err & pid=$!
sleep 0.3; kill -INT $pid; wait $pid; rc=$?
if [ "$rc" -eq 130 ]; then
	[ ! -e big.csv ] && ! ls -a | grep -q '^\.big\.csv' && ok || bad "SIGINT left an output"
elif [ "$rc" -eq 0 ]; then
	ok # finished before the signal arrived
else
	bad "SIGINT: exit $rc"
fi

# --- help, version, man page ---
"$PROG" --help > help.txt 2>&1; expect_rc "--help" 0 $?
"$PROG" --version > /dev/null 2>&1; expect_rc "--version" 0 $?
# The list is printed after parsing, so the command line must parse.
NFM_LIST_OPTIONS=1 "$PROG" unused.pcap unused.csv > opts.txt
[ "$(wc -l < opts.txt)" -ge 20 ] && ok || bad "NFM_LIST_OPTIONS lists the options"
missing=""
for o in $(cat opts.txt); do
	grep -q -- "$o" help.txt || missing="$missing help:$o"
	grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$ROOT/docs/nexusflowmeter.1" || missing="$missing man:$o"
	grep -q -- "$o" "$ROOT/README.md" || missing="$missing readme:$o"
done
[ -z "$missing" ] && ok || bad "options not documented:$missing"
"$PROG" --list-columns > cols.txt; expect_rc "--list-columns" 0 $?
[ "$(grep -c . cols.txt)" -ge 34 ] && ok || bad "--list-columns lists the columns"

nfm_finish
