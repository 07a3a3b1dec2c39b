#!/usr/bin/env bash
# --export ipfix:// and netflow9:// into nfcapd 1.7.1 on loopback: a capture of more than
# 100,000 flows is converted with -of nfdump and exported in the same run; nfcapd's
# files, read back with nfdump -o json, must hold exactly our records (export_check.py
# says which keys and why), and the report must count what was sent. Also an RFC 5103
# biflow export (nfcapd's out_packets / out_bytes), the same on real captures of the
# shared corpus when it is there, an export to a port where nothing
# listens (the run finishes, the report counts the records not sent, one warning), and
# the option checks. Skips when nfcapd/nfdump are absent.
. "$(dirname "$0")/../lib/preamble.sh"
if ! command -v nfcapd >/dev/null || ! command -v nfdump >/dev/null; then
	echo "skipped: nfcapd/nfdump not installed (scripts/install-deps.sh installs nfdump)"
	nfm_finish; exit
fi

# Many short flows: 460,000 packets make about 101,000 flows, 151,000 records.
cap=$work/cap.pcap
"$BUILD/nfm-gencap" --packets 460000 --mix short --seed 3 "$cap" >/dev/null 2>&1 || bad "gencap"

# A UDP port on 127.0.0.1 that is free now.
free_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True once a socket listens on 127.0.0.1:$1 (UDP).
listening() {
	grep -qi "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") " /proc/net/udp
}

collector_pid=
nfm_at_exit 'if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null; wait "$collector_pid" 2>/dev/null; fi'

# Starts nfcapd writing into directory $1; sets port. The suite may run beside another
# on two cores: a collector that gets no CPU for a while must not overflow its socket
# buffer, so it asks for 4 MiB (-B; the default 208 KiB holds ~50 ms of our default
# rate, which is measured on an otherwise idle machine, docs/netflow.md).
start_collector() {
	local dir=$1 try i
	mkdir -p "$dir"
	for try in 1 2 3; do
		port=$(free_port)
		nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -B 4194304 2>"$dir.log" &
		collector_pid=$!
		for i in $(seq 100); do
			listening "$port" && return 0
			kill -0 "$collector_pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$collector_pid" 2>/dev/null; wait "$collector_pid" 2>/dev/null
		collector_pid=
	done
	return 1
}

# Stops nfcapd (SIGTERM: it closes its file) and prints what it collected as JSON.
stop_collector() {
	local dir=$1
	kill -TERM "$collector_pid"
	wait "$collector_pid" 2>/dev/null
	collector_pid=
	nfdump -R "$dir" -o json
}

# The report's line for the export of URL $2 in report JSON $1, as
# "records messages bytes templates not_sent".
report_counts() {
	python3 - "$1" "$2" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
for o in rep.get('outputs', []):
    if o['destination'] == sys.argv[2]:
        print(o['records'], o['messages'], o['bytes'], o['templates'], o['records_not_sent'])
        break
else:
    print('none')
PY
}

# One export run of capture $cap: name, check mode (uni/biflow), URL scheme, extra
# options.
export_run() {
	local name=$1 mode=$2 scheme=$3; shift 3
	local dir=$work/$name
	if ! start_collector "$dir/nfcapd"; then
		bad "$name: nfcapd did not start"; sed 's/^/    /' "$dir/nfcapd.log" | head -n 5
		return
	fi
	local url=$scheme://127.0.0.1:$port
	if "$PROG" "$cap" "$dir/ours.json" -of nfdump -q --export "$url" "$@" 2>"$work/err"; then
		ok
	else
		bad "$name: the run failed"; show_err
	fi
	if stop_collector "$dir/nfcapd" >"$dir/collected.json"; then ok; else bad "$name: nfdump"; fi
	if python3 "$ROOT/tests/netflow/export_check.py" "$mode" "$dir/ours.json" \
		"$dir/collected.json"; then ok; else bad "$name: records (above)"; fi
	if grep -q "Sequence Errors: 0," "$dir/nfcapd.log"; then ok; else
		bad "$name: nfcapd saw sequence errors"; grep "Sequence" "$dir/nfcapd.log" | head -n 2
	fi
	# The report counts what was sent: every record (one per flow for biflows), in
	# messages led by the 2 templates every 16th message, none dropped.
	local want counts
	if [ "$mode" = biflow ]; then
		# the IP flows (ARP has no NetFlow record)
		want=$(python3 -c 'import json,sys; print(sum(p["flows"] for p in json.load(open(sys.argv[1]))["flows"]["by_protocol"] if p["protocol"] != "ARP"))' \
			"$dir/ours_report.json" 2>/dev/null)
	else
		want=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$dir/ours.json")
	fi
	counts=$(report_counts "$dir/ours_report.json" "$url")
	read -r rec msgs bytes tmpl notsent <<<"$counts"
	if [ "$rec" = "$want" ] && [ "${notsent:-x}" = 0 ] && [ "${msgs:-0}" -gt 0 ] &&
	   [ "$tmpl" = $(( (msgs + 15) / 16 * 2 )) ] && [ "${bytes:-0}" -gt $(( msgs * 16 )) ]; then
		ok
	else
		bad "$name: report counts '$counts' (want $want records, none dropped)"
	fi
}

# 1-3. IPFIX, NetFlow v9, IPFIX biflows; default rate and MTU.
export_run ipfix uni ipfix
export_run netflow9 uni netflow9
export_run biflow biflow ipfix --export-biflow

# 4. Another MTU, rate and domain, on a smaller capture: still every record, and nfcapd
# saw the domain.
"$BUILD/nfm-gencap" --packets 20000 --mix short --seed 5 "$work/small.pcap" >/dev/null 2>&1
cap=$work/small.pcap
export_run jumbo uni ipfix --export-mtu 8900 --export-domain 7 --export-rate 200000
if grep -q "Observation domain 7 from: 127.0.0.1" "$work/jumbo/nfcapd.log"; then ok; else
	bad "jumbo: nfcapd did not see domain 7"; head -n 5 "$work/jumbo/nfcapd.log"
fi

# 4b. Real captures of the shared corpus (IPv4 and IPv6, ICMPv6, VLAN tags, many
# protocols), IPFIX, NetFlow v9 and biflows: every record arrives as nfdump reads it.
real=(large/many-protocols.pcap large/1kxun.pcap ipv6/icmpv6.pcap encap_vlan/VlanPackets.pcap
      linktype_raw/four_ipv6_http_streams.pcap)
if [ -f "$CORPUS/MANIFEST.tsv" ]; then
	for name in "${real[@]}"; do
		cap=$CORPUS/$name
		if [ ! -f "$cap" ]; then
			bad "$name: listed here but not in the corpus"
			continue
		fi
		tag=$(basename "$name" .pcap)
		export_run "real-ipfix-$tag" uni ipfix
		export_run "real-v9-$tag" uni netflow9
		# (biflows where there is a reverse direction: the check wants reverse counters)
		[ "$name" = ipv6/icmpv6.pcap ] ||
			export_run "real-biflow-$tag" biflow ipfix --export-biflow
	done
else
	echo "skipped: real captures: no shared corpus at $CORPUS"
fi

# 5. Nothing listens: the run still finishes, the records not sent are counted, and one
# warning says so.
dead=$(free_port)
url=ipfix://127.0.0.1:$dead
if "$PROG" "$work/small.pcap" "$work/dead.json" -of nfdump -q --export "$url" 2>"$work/err"; then
	ok
else
	bad "export to a closed port failed the run"; show_err
fi
if [ "$(grep -c "^nexusflowmeter: warning: $url: send failed: connection refused" "$work/err")" = 1 ]; then
	ok
else
	bad "closed port: not one warning"; show_err
fi
total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/dead.json")
read -r rec msgs bytes tmpl notsent <<<"$(report_counts "$work/dead_report.json" "$url")"
if [ "${notsent:-0}" -gt 0 ] && [ $(( rec + notsent )) = "$total" ]; then ok; else
	bad "closed port: report says $rec sent, ${notsent:-?} not sent of $total"
fi

# 6. Option checks: one line naming the destination or the option.
check_refused() { # what, expected text, args...
	local what=$1 text=$2; shift 2
	if "$PROG" "$work/small.pcap" "$work/x.json" -of nfdump -q "$@" 2>"$work/err"; then
		bad "$what: accepted"
	elif [ "$(wc -l <"$work/err")" = 1 ] && grep -q -- "$text" "$work/err"; then
		ok
	else
		bad "$what: message"; show_err
	fi
}
check_refused "v9 biflow" "netflow9://127.0.0.1:9: --export-biflow needs IPFIX" \
	--export netflow9://127.0.0.1:9 --export-biflow
check_refused "no port" "ipfix://127.0.0.1" --export ipfix://127.0.0.1
check_refused "bad port" "bad port" --export ipfix://127.0.0.1:99999
check_refused "bare IPv6" "brackets" --export ipfix://::1:4739
check_refused "small MTU" "export-mtu" --export ipfix://127.0.0.1:9 --export-biflow --export-mtu 256

nfm_finish
