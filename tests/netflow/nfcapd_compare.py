"""-of nfcapd on every capture of the corpus, read back by nfdump 1.7.1 (tests/netflow/nfcapd.sh).

Usage: nfcapd_compare.py PROG CORPUS OUT
For each capture of CORPUS/MANIFEST.tsv (two at a time), in OUT/N:
  plain/     -of nfcapd                lz4/  -of nfcapd --lz4
  dict.json  -of nfdump-dict: our nfdump array of every slice, keyed by the slice's file
             name (the same 300-second slices as -of nfcapd by default)
and prints one line per check, "ok CHECK" or "FAIL CAPTURE: CHECK: why":
  status    the three runs end with the same exit status (0, or 3 with warnings); a
            capture refused (1) by all three leaves no output
  names     the three outputs hold the same slices
  read      nfdump -r reads every file (plain and LZ4), exit 0
  totals    nfdump -I's flows, packets and bytes (all and per protocol) are the sums of
            our records, and the ident is "none"
  records   nfdump -r -o json prints exactly our records, record for record, every key
            (received too: both write the record's last packet time), plain and LZ4
"""
import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys

ENV = dict(os.environ, TZ="UTC", LC_ALL="C")


def nfdump(*args):
    p = subprocess.run(["nfdump", *args], capture_output=True, text=True, env=ENV,
                       errors="replace")
    return p.returncode, p.stdout, p.stderr


def nfdump_records(path):
    """nfdump -r PATH -o json as a list (nfdump prints a non-JSON text for no records)."""
    rc, out, err = nfdump("-r", path, "-o", "json")
    if rc != 0:
        return None, f"nfdump -r {os.path.basename(path)}: exit {rc}: {err.strip()[:200]}"
    if out == "[\nNo matching flows\n]\n":
        return [], None
    try:
        return json.loads(out), None
    except ValueError as e:
        return None, f"nfdump -r {os.path.basename(path)}: not JSON: {e}"


def stat_lines(path):
    rc, out, _ = nfdump("-r", path, "-I")
    if rc != 0:
        return None
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def expected_stat(recs):
    s = {"Ident": "none", "Flows": len(recs), "Packets": 0, "Bytes": 0}
    for k in ("tcp", "udp", "icmp", "other"):
        s[f"Flows_{k}"] = s[f"Packets_{k}"] = s[f"Bytes_{k}"] = 0
    for r in recs:
        # nfpcapd's classes: ICMPv6 counts as other
        k = {6: "tcp", 17: "udp", 1: "icmp"}.get(r["proto"], "other")
        s[f"Flows_{k}"] += 1
        for what, key in (("Packets", "in_packets"), ("Bytes", "in_bytes")):
            s[what] += r[key]
            s[f"{what}_{k}"] += r[key]
    return {k: str(v) for k, v in s.items()}


def first_difference(ours, theirs):
    if len(ours) != len(theirs):
        return f"{len(theirs)} records, ours {len(ours)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            k = next(k for k in list(a) + list(b) if a.get(k) != b.get(k))
            return f"record {i}: {k} is {b.get(k)!r}, ours {a.get(k)!r}"
    return None


def listing(d, sub):
    p = os.path.join(d, sub)
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def compare(d, check):
    """names, read, totals, records for the outputs in d."""
    slices = json.load(open(os.path.join(d, "dict.json")))
    names = listing(d, "plain")
    same = names == listing(d, "lz4") == sorted(slices)
    check("names", None if same else
          f"plain {names[:2]}, lz4 {listing(d, 'lz4')[:2]}, dict {sorted(slices)[:2]}")
    if not same or not names:  # no packets: no slice at all, in every format
        return
    read_err = totals_err = records_err = None
    # Files of empty slices are all the same bytes: nfdump reads the first of each kind,
    # the others must be identical to it (captures with long gaps have thousands).
    empty_seen = {}
    for n in names:
        ours = slices[n]
        for sub in ("plain", "lz4"):
            path = os.path.join(d, sub, n)
            if not ours:
                data = open(path, "rb").read()
                if sub in empty_seen:
                    if data != empty_seen[sub] and not read_err:
                        read_err = f"{sub}/{n}: an empty slice unlike the others"
                    continue
                empty_seen[sub] = data
            theirs, err = nfdump_records(path)
            if err:
                read_err = read_err or err
                continue
            diff = first_difference(ours, theirs)
            if diff and not records_err:
                records_err = f"{sub}/{n}: {diff}"
            got, want = stat_lines(path), expected_stat(ours)
            if got is None:
                read_err = read_err or f"nfdump -r {sub}/{n} -I failed"
            elif not totals_err:
                bad = [k for k in want if got.get(k) != want[k]]
                if bad:
                    totals_err = f"{sub}/{n}: {bad[0]} {got.get(bad[0])}, ours {want[bad[0]]}"
    check("read", read_err)
    check("totals", totals_err)
    check("records", records_err)


def one_capture(prog, corpus, out, i, name):
    """Converts and checks one capture; returns its lines."""
    lines = []

    def check(what, why):
        lines.append(f"FAIL {name}: {what}: {why}" if why else f"ok {what}")

    d = os.path.join(out, str(i))
    os.makedirs(d)
    cap = os.path.join(corpus, name)
    runs = (["plain", "-of", "nfcapd"], ["lz4", "-of", "nfcapd", "--lz4"],
            ["dict.json", "-of", "nfdump-dict"])
    status, errs = [], []
    for target, *opts in runs:
        p = subprocess.run([prog, cap, os.path.join(d, target), *opts, "-q", "--no-report"],
                           capture_output=True, text=True, errors="replace")
        status.append(p.returncode)
        errs.append(p.stderr.strip()[:300])
    if len(set(status)) != 1 or status[0] not in (0, 1, 3):
        check("status", f"exit statuses {status}: {[e for e in errs if e][:1]}")
    elif status[0] == 1:
        # only a capture damaged on purpose may be refused
        left = [t for t, *_ in runs if os.path.exists(os.path.join(d, t))]
        check("status", f"refused, yet {left} exist" if left else
              None if name.startswith("corrupt/") else f"refused: {errs[0]}")
    else:
        check("status", None)
        compare(d, check)
    shutil.rmtree(d, ignore_errors=True)
    return lines


def main():
    prog, corpus, out = sys.argv[1:4]
    with open(os.path.join(corpus, "MANIFEST.tsv"), newline="") as fh:
        names = [row["file"] for row in csv.DictReader(fh, delimiter="\t")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(one_capture, prog, corpus, out, i, n) for i, n in enumerate(names)]
        for job in jobs:  # in manifest order
            print("\n".join(job.result()), flush=True)


main()
