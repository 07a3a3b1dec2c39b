# The common start of every test script, sourced: . "$(dirname "$0")/../lib/preamble.sh"
# Afterwards:
#  - the working directory is the project root, $ROOT;
#  - $BUILD (NFM_BUILD, default build) and $PROG (NFM_PROG, default nexusflowmeter) are
#    absolute paths; $CORPUS is the shared capture corpus (NFM_SHARED/pcaps, default
#    ../shared/pcaps beside the project), which may be absent;
#  - TZ=UTC and LC_ALL=C, so that outputs do not depend on the machine;
#  - $work is a new temporary directory, removed on exit after the commands given to
#    nfm_at_exit have run (in order); INT and TERM exit with status 1 through the same;
#  - pass=0 fail=0, ok and bad NAME... count a check (bad prints "FAIL NAME..."),
#    show_err prints the first lines of $work/err indented, and nfm_finish prints the
#    closing "N passed, N failed" line and returns nonzero when a check failed.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
ROOT=$PWD
BUILD=${NFM_BUILD:-build}
PROG=${NFM_PROG:-nexusflowmeter}
case "$PROG" in /*) ;; *) PROG=$ROOT/$PROG ;; esac
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CORPUS=${NFM_SHARED:-$(cd .. && pwd)/shared}/pcaps
export TZ=UTC LC_ALL=C

work=$(mktemp -d)
nfm_exit_hooks=()
nfm_at_exit() { nfm_exit_hooks+=("$1"); }
nfm_cleanup() {
	local h
	for h in "${nfm_exit_hooks[@]}"; do eval "$h"; done
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap nfm_cleanup EXIT
trap 'exit 1' INT TERM

pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
show_err() { sed 's/^/    /' "$work/err" | head -n 5; }
nfm_finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
