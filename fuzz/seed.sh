#!/usr/bin/env bash
# Fills the seed corpora fuzz/corpus-<target>/ for every fuzz/fuzz_*.c target:
#  - captures under 1 MB from the shared corpus (../shared/pcaps beside the project, or
#    $NFM_SHARED/pcaps), when present;
#  - the small captures the golden tests write (build/tools/mkgolden OUTDIR; built with
#    `make tools` if missing) and the hostile ones of build/tools/mkhostile, if built;
#  - for fuzz_decode (input: link-type selector byte, options byte, frame), the first
#    frames of those captures, reframed for that target.
# Existing corpus files are kept; files are named by content hash, so running this twice
# adds nothing. Usage: fuzz/seed.sh [BUILD_DIR]   (default: build)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-${NFM_BUILD:-build}}
SHARED=${NFM_SHARED:-$(cd .. && pwd)/shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/caps"
if [ -d "$SHARED/pcaps" ]; then
	find "$SHARED/pcaps" -type f -size -1024k \
		! -name '*.txt' ! -name '*.md' ! -name '*.tsv' -print0 |
		while IFS= read -r -d '' f; do
			cp "$f" "$work/caps/shared_$(printf '%s' "$f" | md5sum | cut -c1-12)"
		done
else
	echo "seed: no shared corpus at $SHARED/pcaps (skipped)"
fi
if [ ! -x "$BUILD/tools/mkgolden" ]; then
	make -s "$BUILD/tools/mkgolden" >/dev/null 2>&1 || true
fi
if [ -x "$BUILD/tools/mkgolden" ]; then
	mkdir -p "$work/golden"
	"$BUILD/tools/mkgolden" "$work/golden" >/dev/null 2>&1 || true
	for f in "$work/golden"/*; do [ -f "$f" ] && cp "$f" "$work/caps/golden_$(basename "$f")"; done
else
	echo "seed: $BUILD/tools/mkgolden not available (skipped)"
fi
if [ -x "$BUILD/tools/mkhostile" ]; then
	mkdir -p "$work/hostile"
	"$BUILD/tools/mkhostile" "$work/hostile" >/dev/null 2>&1 || true
	for f in "$work/hostile"/*; do [ -f "$f" ] && cp "$f" "$work/caps/hostile_$(basename "$f")"; done
fi

# Content-addressed copy into a corpus directory (files of 1 MiB and more are left out).
add() { # dir file
	local h
	[ "$(stat -c %s "$2")" -lt 1048576 ] || return 0
	h=$(sha1sum "$2" | cut -c1-40)
	[ -e "$1/$h" ] || cp "$2" "$1/$h"
}

for src in fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	dir=fuzz/corpus-$t
	mkdir -p "$dir"
	before=$(find "$dir" -type f | wc -l)
	case $t in
	fuzz_decode)
		# Frames of classic pcap and pcapng files (uncompressed), 64 per capture at most,
		# prefixed with the selector of their link type in fuzz_decode.c's table.
		mkdir -p "$work/frames"
		python3 - "$work/caps" "$work/frames" <<'EOF'
import os, struct, sys
links = [0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 276]
src, dst = sys.argv[1], sys.argv[2]
n = 0
def emit(lt, frame):
    global n
    if lt not in links or not frame:
        return
    with open(os.path.join(dst, "f%06d" % n), "wb") as fp:
        fp.write(bytes([links.index(lt), 0]) + frame[:4096])
    n += 1
for name in sorted(os.listdir(src)):
    b = open(os.path.join(src, name), "rb").read()
    if len(b) < 24:
        continue
    got = 0
    m = b[:4]
    if m in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        e = "<" if m in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        lt = struct.unpack(e + "I", b[20:24])[0] & 0xffff
        p = 24
        while p + 16 <= len(b) and got < 64:
            cl = struct.unpack(e + "I", b[p + 8:p + 12])[0]
            if p + 16 + cl > len(b):
                break
            emit(lt, b[p + 16:p + 16 + cl]); got += 1
            p += 16 + cl
    elif m == b"\x0a\x0d\x0d\x0a":
        e = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        p, ifs = 0, []
        while p + 12 <= len(b) and got < 64:
            t, l = struct.unpack(e + "II", b[p:p + 8])
            if l < 12 or p + l > len(b):
                break
            if t == 0x0a0d0d0a:
                e = "<" if b[p + 8:p + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                t, l = struct.unpack(e + "II", b[p:p + 8])
                ifs = []
            elif t == 1 and l >= 20:
                ifs.append(struct.unpack(e + "H", b[p + 8:p + 10])[0])
            elif t == 6 and l >= 32:
                i, cl = struct.unpack(e + "I", b[p + 8:p + 12])[0], struct.unpack(e + "I", b[p + 20:p + 24])[0]
                if i < len(ifs) and 28 + cl <= l:
                    emit(ifs[i], b[p + 28:p + 28 + cl]); got += 1
            p += max(l, 12)
EOF
		for f in "$work/frames"/*; do [ -f "$f" ] && add "$dir" "$f"; done
		;;
	*)
		for f in "$work/caps"/*; do [ -f "$f" ] && add "$dir" "$f"; done
		;;
	esac
	after=$(find "$dir" -type f | wc -l)
	echo "seed: $dir: $after files ($((after - before)) new)"
done
