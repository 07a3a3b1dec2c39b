#!/usr/bin/env bash
# The benchmark behind `make bench` (docs/performance.md): generates three captures with
# build/nfm-gencap, then times NexusFlowMeter and its peers on the very same files with
# /usr/bin/time (wall, user, sys, peak RSS) and prints a table (also written as Markdown to
# BENCH_DIR/results.md). It builds nothing: `make bench` builds first. Peers come from
# scripts/install-bench-deps.sh; a missing one is skipped with a note.
#
# Environment:
#   BENCH_SCALE     full (default): A = 1 M packets, B = 10 M, C = 5 M;
#                   small: a tenth of each (packets and concurrent flows)
#   BENCH_DIR       work dir for captures, outputs and results.md. Default: a temp dir,
#                   removed at the end. When given, it is kept and captures already in
#                   it are reused (same parameters and seed give the same file).
#   BENCH_SKIP      comma-separated tools not to run: ours, ours-mt, ours-nfcapd, ours-cic,
#                   ours-nfstream, readloop, ourread, nfpcapd, argus, softflowd, tshark
#                   (e.g. BENCH_SKIP=tshark,argus)
#   BENCH_CAPTURES  comma-separated subset of A,B,C (default A,B,C)
#   BENCH_SEED      generator seed (default 1)
#   BENCH_TIMEOUT   seconds before one run is stopped and reported as a timeout
#                   (default 1800; 0 = never)
#   BENCH_WORKERS   N for the multi-worker run of ours (default: nproc)
#   BENCH_REPEAT    runs per tool and capture; the fastest (wall) is reported (default 1)
#
# Timings are reported, never asserted. Exit status 0, or 1 when a tool failed (non-zero
# exit or killed by a signal), 2 on a setup problem (missing generator, bad settings).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export LC_ALL=C TZ=UTC

BUILD=${NFM_BUILD:-build}
PROG=${NFM_PROG:-./nexusflowmeter}
GENCAP=$BUILD/nfm-gencap
READLOOP=$BUILD/nfm-readloop
OURREAD=$BUILD/nfm-ourread
TIME=/usr/bin/time
SCALE=${BENCH_SCALE:-full}
SEED=${BENCH_SEED:-1}
SKIP=",${BENCH_SKIP:-},"
CAPS=${BENCH_CAPTURES:-A,B,C}
TMO=${BENCH_TIMEOUT:-1800}
NPROC=$(nproc 2>/dev/null || echo 1)
WORKERS=${BENCH_WORKERS:-$NPROC}
REPEAT=${BENCH_REPEAT:-1}

die() { echo "bench: $*" >&2; exit 2; }
note() { echo "bench: $*" >&2; NOTES+=("$*"); }

[ -x "$TIME" ] || die "$TIME is missing: run scripts/install-bench-deps.sh"
[ -x "$GENCAP" ] || die "$GENCAP is missing: run 'make' first (or 'make bench')"
[ -x "$PROG" ] || die "$PROG is missing: run 'make' first (or 'make bench')"
case $SCALE in full | small) ;; *) die "BENCH_SCALE must be full or small, not '$SCALE'" ;; esac
case $TMO in '' | *[!0-9]*) die "BENCH_TIMEOUT must be a whole number of seconds" ;; esac
case $WORKERS in '' | *[!0-9]* | 0) die "BENCH_WORKERS must be a positive number" ;; esac
case $REPEAT in '' | *[!0-9]* | 0) die "BENCH_REPEAT must be a positive number" ;; esac

TEMP_DIR=
if [ -n "${BENCH_DIR:-}" ]; then
	DIR=$BENCH_DIR
	mkdir -p "$DIR" || die "cannot create $DIR"
else
	TEMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nfm-bench.XXXXXX") || die "cannot create a temp dir"
	DIR=$TEMP_DIR
fi
OUT=$DIR/out
cleanup() {
	rm -rf "$OUT"
	[ -z "$TEMP_DIR" ] || rm -rf "$TEMP_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Capture definitions: name, gencap options, description. Full-scale --concurrent values
# are tuned so the flow counts land near the targets (A ~52 k, B ~1 M, C ~2 M flows).
div=1
[ "$SCALE" = small ] && div=10
cap_args() { # name -> gencap options
	case $1 in
	A) echo "--packets $((1000000 / div)) --concurrent $((6500 / div))" ;;
	B) echo "--packets $((10000000 / div)) --concurrent $((350000 / div))" ;;
	C) echo "--mix short --packets $((5000000 / div)) --concurrent $((350000 / div))" ;;
	*) return 1 ;;
	esac
}
cap_desc() {
	case $1 in
	A) echo "default mix, ~52 k flows at full scale" ;;
	B) echo "default mix, ~1 M flows at full scale" ;;
	C) echo "short mix: most flows 1-3 packets, ~2 M flows at full scale" ;;
	esac
}

# The collector target for softflowd: a local UDP port nobody listens on (exports go
# nowhere; that is fine, the cost of building and sending them is still paid).
free_udp_port() {
	local p
	for p in 29995 39995 49995 19995 59995; do
		if ! awk 'NR > 1 {print $2}' /proc/net/udp /proc/net/udp6 2>/dev/null |
			grep -qi ":$(printf '%04X' "$p")\$"; then
			echo "$p"
			return
		fi
	done
	echo 29995
}
SF_PORT=$(free_udp_port)
SF_MAXFLOWS=4194304

# Tool registry: id -> binary that must exist, and the command (with FILE / O as the
# capture and the per-run output directory).
# ours-nfcapd, ours-cic and ours-nfstream are our 1-worker run writing nfcapd files (the
# job of nfpcapd -w) and the cic and nfstream profiles: each against the default profile.
TOOLS=(ours ours-mt ours-nfcapd ours-cic ours-nfstream readloop ourread nfpcapd argus softflowd tshark)
tool_label() {
	case $1 in
	ours) echo "nexusflowmeter (1 worker)" ;;
	ours-mt) echo "nexusflowmeter ($WORKERS workers)" ;;
	ours-nfcapd) echo "nexusflowmeter -of nfcapd" ;;
	ours-cic) echo "nexusflowmeter --profile cic" ;;
	ours-nfstream) echo "nexusflowmeter --profile nfstream" ;;
	readloop) echo "libpcap read loop" ;;
	ourread) echo "our reader loop" ;;
	*) echo "$1" ;;
	esac
}
tool_bin() {
	case $1 in
	ours | ours-*) echo "$PROG" ;;
	readloop) echo "$READLOOP" ;;
	ourread) echo "$OURREAD" ;;
	nfpcapd) command -v nfpcapd ;;
	argus) command -v argus || { [ -x /usr/sbin/argus ] && echo /usr/sbin/argus; } ;;
	softflowd) command -v softflowd || { [ -x /usr/sbin/softflowd ] && echo /usr/sbin/softflowd; } ;;
	tshark) command -v tshark ;;
	esac
}
tool_cmd() { # id file outdir -> command words (one per line)
	local id=$1 f=$2 o=$3 b
	b=$(tool_bin "$id")
	case $id in
	ours) printf '%s\n' "$b" "$f" "$o/flows.csv" --no-progress --no-report --max-workers 1 ;;
	ours-mt) printf '%s\n' "$b" "$f" "$o/flows.csv" --no-progress --no-report --max-workers "$WORKERS" ;;
	ours-nfcapd) printf '%s\n' "$b" "$f" "$o/slices" -of nfcapd --no-progress --no-report --max-workers 1 ;;
	ours-cic) printf '%s\n' "$b" "$f" "$o/flows.csv" --profile cic --no-progress --no-report --max-workers 1 ;;
	ours-nfstream) printf '%s\n' "$b" "$f" "$o/flows.csv" --profile nfstream --no-progress --no-report --max-workers 1 ;;
	readloop | ourread) printf '%s\n' "$b" "$f" ;;
	nfpcapd) printf '%s\n' "$b" -r "$f" -w "$o" ;;
	argus) printf '%s\n' "$b" -r "$f" -w "$o/out.argus" ;;
	softflowd) printf '%s\n' "$b" -r "$f" -n "127.0.0.1:$SF_PORT" -v 9 -m "$SF_MAXFLOWS" \
		-p "$o/softflowd.pid" -c none ;;
	tshark) printf '%s\n' "$b" -n -q -r "$f" -z conv,tcp -z conv,udp ;;
	esac
}
# The command as documented (placeholders instead of paths).
tool_shown() {
	local c
	c=$(tool_cmd "$1" FILE OUT | tr '\n' ' ')
	c=${c% }
	c=${c/#$PROG/nexusflowmeter}
	c=${c/#$READLOOP/$BUILD/nfm-readloop}
	c=${c/#$OURREAD/$BUILD/nfm-ourread}
	c=${c/#*\/$1 /$1 }
	[ "$1" = tshark ] && c="$c > OUT/stdout"
	echo "$c"
}

# ---------------------------------------------------------------- machine
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
[ -n "$cpu_model" ] || cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
cores=$(lscpu -p=CORE 2>/dev/null | grep -v '^#' | sort -u | wc -l)
ram_gib=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
kernel=$(uname -r)
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
invocation="BENCH_SCALE=$SCALE${BENCH_SKIP:+ BENCH_SKIP=$BENCH_SKIP}${BENCH_CAPTURES:+ BENCH_CAPTURES=$BENCH_CAPTURES}${BENCH_REPEAT:+ BENCH_REPEAT=$BENCH_REPEAT} bench/run.sh"
# Other work on the machine inflates wall times (not CPU times): record the load.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

version_of() {
	local b
	b=$(tool_bin "$1") || true
	[ -n "$b" ] && [ -x "$b" ] || { echo "not installed"; return; }
	case $1 in
	ours | ours-*) "$b" --version 2>&1 | head -n 1 ;;
	ourread) echo "NexusFlowMeter capture reader" ;;
	readloop) echo "libpcap $(dpkg-query -W -f '${Version}' libpcap0.8 2>/dev/null || echo '?')" ;;
	nfpcapd) nfdump -V 2>&1 | sed -n 's/^nfdump: Version: */nfdump /p' | head -n 1 ;;
	argus) "$b" -h 2>&1 | sed -n 's/^Argus Version/argus/p' | head -n 1 ;;
	softflowd) "$b" -h 2>&1 | grep -o 'softflowd version [0-9.]*[0-9]' | head -n 1 ;;
	tshark) "$b" -v 2>/dev/null | head -n 1 | sed 's/ *(Git .*//' ;;
	esac
}

echo "== NexusFlowMeter benchmark ($SCALE scale)"
echo "machine: $cpu_model; $NPROC CPUs ($cores cores); ${ram_gib} GiB RAM; $os; Linux $kernel"
echo "command: $invocation"
echo "load average (1/5/15 min) at start: $load_start"
echo "work dir: ${BENCH_DIR:-temporary (removed at the end)}"
echo

NOTES=()
ROWS=()   # tool|capture|packets|bytes|wall|user|sys|rss_kib|status
CAPROWS=() # capture|args|packets|bytes|flows
FAILED=0

skipped() { case $SKIP in *",$1,"*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------- runs
run_tool() { # id capture file packets bytes
	local id=$1 cap=$2 f=$3 pk=$4 by=$5 o tf log rc line cur b status rep
	local -a cmd pre=()
	[ "$TMO" -gt 0 ] && pre=(timeout --foreground "$TMO")
	if skipped "$id" || { [ "$id" = ours-mt ] && skipped ours-mt; }; then
		note "$(tool_label "$id"): skipped (BENCH_SKIP)"
		return
	fi
	b=$(tool_bin "$id") || true
	if [ -z "$b" ] || [ ! -x "$b" ]; then
		case $id in
		readloop | ourread) note "$(tool_label "$id"): $b not built yet, skipped" ;;
		*) note "$id: not installed (scripts/install-bench-deps.sh), skipped" ;;
		esac
		return
	fi
	log=$DIR/logs/$id-$cap.log
	mkdir -p "$DIR/logs"
	printf '  %-28s ' "$(tool_label "$id")"
	# BENCH_REPEAT runs; the one with the shortest wall time is kept.
	line=
	status=ok
	for ((rep = 1; rep <= REPEAT; rep++)); do
		o=$OUT/$id-$cap
		rm -rf "$o"
		mkdir -p "$o"
		tf=$o/time.txt
		mapfile -t cmd < <(tool_cmd "$id" "$f" "$o")
		cat "$f" >/dev/null # the capture comes from the page cache for every tool alike
		# timeout --foreground: the tool stays in our process group (Ctrl-C reaches it) and
		# is the direct child of timeout, so it is the one stopped; time's figures include it.
		"$TIME" -o "$tf" -f '%e %U %S %M' "${pre[@]}" "${cmd[@]}" >"$o/stdout" 2>"$log"
		rc=$?
		if [ "$TMO" -gt 0 ] && [ "$rc" -eq 124 ]; then
			status="timeout (${TMO} s)"
		elif [ "$rc" -ne 0 ]; then
			status="FAILED (exit $rc)"
			grep -q 'terminated by signal' "$tf" 2>/dev/null &&
				status="FAILED ($(grep -o 'signal [0-9]*' "$tf" | head -n 1))"
			FAILED=1
			echo >&2
			echo "bench: $(tool_label "$id") on $cap failed; last lines of its output:" >&2
			tail -n 5 "$log" >&2
		fi
		[ "$status" = ok ] || break
		cur=$(tail -n 1 "$tf" 2>/dev/null)
		case $cur in *[!0-9.\ ]* | '') cur="- - - -" ;; esac
		if [ -z "$line" ] || awk -v a="${cur%% *}" -v b="${line%% *}" 'BEGIN {exit !(a < b)}'; then
			line=$cur
			# Our own summary line carries the flow count: keep it for the capture table.
			[ "$id" = ours ] && OUR_FLOWS=$(grep -o '[0-9]* flows' "$log" | tail -n 1 | cut -d' ' -f1)
		fi
		rm -rf "$o"
	done
	[ "$status" = ok ] || line="- - - -"
	case $line in *[!0-9.\ ]* | '') line="- - - -" ;; esac
	ROWS+=("$(tool_label "$id")|$cap|$pk|$by|${line// /|}|$status")
	set -- $line
	if [ "$status" = ok ]; then
		awk -v w="$1" -v u="$2" -v s="$3" -v m="$4" -v p="$pk" 'BEGIN {
			if (w < 0.01) w = 0.01
			printf "%8.2f s wall %8.2f s CPU %8.1f MiB  %7.3f M packets/s\n", w, u + s, m / 1024, p / w / 1e6 }'
	else
		echo "$status"
	fi
}

IFS=, read -r -a cap_list <<<"$CAPS"
for cap in "${cap_list[@]}"; do
	args=$(cap_args "$cap") || die "unknown capture '$cap' in BENCH_CAPTURES (A, B or C)"
	# The file name carries every generator parameter, so a reused file is the same file.
	fname=$(echo "$cap $args --seed $SEED" | tr -s ' -' '_' | tr -d ' ')
	f=$DIR/$fname.pcap
	pk=$(echo "$args" | sed -n 's/.*--packets \([0-9]*\).*/\1/p')
	if [ -s "$f" ]; then
		echo "== capture $cap: reusing $f"
	else
		echo "== capture $cap: generating (nfm-gencap $args --seed $SEED)"
		# shellcheck disable=SC2086
		if ! "$GENCAP" $args --seed "$SEED" "$f.part" >/dev/null 2>"$DIR/$fname.gencap.txt"; then
			cat "$DIR/$fname.gencap.txt" >&2
			rm -f "$f.part"
			die "nfm-gencap failed for capture $cap"
		fi
		mv "$f.part" "$f"
	fi
	# The generator's own flow count ("wrote N packets, M flows to ..."), kept beside the file.
	gen_flows=$(grep -o '[0-9]* flows' "$DIR/$fname.gencap.txt" 2>/dev/null | cut -d' ' -f1)
	by=$(stat -c %s "$f")
	echo "   $pk packets, $(awk -v b="$by" 'BEGIN {printf "%.1f MB", b / 1e6}')"
	OUR_FLOWS="?"
	for id in "${TOOLS[@]}"; do
		run_tool "$id" "$cap" "$f" "$pk" "$by"
	done
	CAPROWS+=("$cap|$args --seed $SEED|$pk|$by|${gen_flows:-?}|$OUR_FLOWS")
	echo
done

# ---------------------------------------------------------------- table
# Our 1-worker wall time per capture, for the ratio column.
declare -A OURW
for r in "${ROWS[@]}"; do
	IFS='|' read -r t c pk by w u s m st <<<"$r"
	[ "$t" = "$(tool_label ours)" ] && [ "$st" = ok ] && OURW[$c]=$w
done

table() { # fmt: text|md
	local fmt=$1 r t c pk by w u s m st ow
	if [ "$fmt" = md ]; then
		echo "| tool | capture | M packets/s | GB/s | peak RSS MiB | ours (1 worker) ÷ tool | wall s | CPU s |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|"
	else
		printf '%-28s %-7s %11s %7s %12s %10s %8s %8s\n' tool capture "M pkts/s" "GB/s" "peak RSS MiB" "ours/tool" "wall s" "CPU s"
	fi
	for r in "${ROWS[@]}"; do
		IFS='|' read -r t c pk by w u s m st <<<"$r"
		ow=${OURW[$c]:-}
		awk -v fmt="$fmt" -v t="$t" -v c="$c" -v pk="$pk" -v by="$by" -v w="$w" -v u="$u" \
			-v s="$s" -v m="$m" -v st="$st" -v ow="$ow" 'BEGIN {
			if (st != "ok") {
				if (fmt == "md") printf "| %s | %s | %s | | | | | |\n", t, c, st
				else printf "%-28s %-7s %s\n", t, c, st
				exit
			}
			ww = (w < 0.01) ? 0.01 : w
			pps = sprintf("%.3f", pk / ww / 1e6)
			gbs = sprintf("%.3f", by / ww / 1e9)
			rss = sprintf("%.1f", m / 1024)
			if (ow == "") ratio = "-"
			else { ov = (ow < 0.01) ? 0.01 : ow; ratio = sprintf("%.2f", ww / ov) }
			cpu = sprintf("%.2f", u + s)
			if (fmt == "md") printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t, c, pps, gbs, rss, ratio, w, cpu
			else printf "%-28s %-7s %11s %7s %12s %10s %8s %8s\n", t, c, pps, gbs, rss, ratio, w, cpu
		}'
	done
}

captable() { # fmt
	local r c a pk by gf fl
	if [ "$1" = md ]; then
		echo "| capture | nfm-gencap options | packets | size MB | flows generated | flows metered (ours) |"
		echo "|---|---|---:|---:|---:|---:|"
	fi
	for r in "${CAPROWS[@]}"; do
		IFS='|' read -r c a pk by gf fl <<<"$r"
		if [ "$1" = md ]; then
			awk -v c="$c" -v a="$a" -v pk="$pk" -v by="$by" -v gf="$gf" -v fl="$fl" \
				'BEGIN {printf "| %s | `%s` | %d | %.1f | %s | %s |\n", c, a, pk, by / 1e6, gf, fl}'
		else
			awk -v c="$c" -v a="$a" -v pk="$pk" -v by="$by" -v gf="$gf" -v fl="$fl" \
				'BEGIN {printf "%s: %d packets, %.1f MB, %s flows generated, %s metered by ours (nfm-gencap %s)\n", c, pk, by / 1e6, gf, fl, a}'
		fi
	done
}

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== results ($SCALE scale; ours/tool = our 1-worker packets/s divided by the tool's)"
captable text
echo
table text
if [ ${#NOTES[@]} -gt 0 ]; then
	echo
	printf 'note: %s\n' "${NOTES[@]}" | awk '!seen[$0]++'
fi

{
	echo "# NexusFlowMeter benchmark results"
	echo
	echo "- scale: $SCALE"
	echo "- command: \`$invocation\`"
	echo "- machine: $cpu_model; $NPROC CPUs ($cores cores); ${ram_gib} GiB RAM; $os; Linux $kernel"
	echo "- load average (1/5/15 min): $load_start at start, $load_end at the end (other work on the machine inflates wall times, not CPU times)"
	echo "- timing: \`/usr/bin/time -f '%e %U %S %M'\` per run, capture in the page cache; fastest of $REPEAT run(s) per tool"
	echo "- ours ÷ tool: our 1-worker packets/s divided by the tool's (above 1: we are faster)"
	echo
	echo "## Captures"
	echo
	captable md
	echo
	echo "## Results"
	echo
	table md
	echo
	echo "## Commands"
	echo
	for id in "${TOOLS[@]}"; do
		echo "- $(tool_label "$id") ($(version_of "$id")): \`$(tool_shown "$id")\`"
	done
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo
		echo "## Notes"
		echo
		printf -- '- %s\n' "${NOTES[@]}" | awk '!seen[$0]++'
	fi
} >"$DIR/results.md"
if [ -n "$TEMP_DIR" ]; then
	echo
	echo "== results.md (the temp dir is removed now; set BENCH_DIR to keep it)"
	cat "$DIR/results.md"
else
	echo
	echo "Markdown table: $DIR/results.md"
fi
exit "$FAILED"
