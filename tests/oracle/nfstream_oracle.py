#!/usr/bin/env python3
"""Independent oracle of the `nfstream` profile: every column and the early-packet lists
of every flow, computed from tshark's dissection with pandas, against
`nexusflowmeter --profile nfstream --splt 8` on the shared corpus.

tshark runs once per capture (no reassembly, no defragmentation). Each packet is keyed
as tests/corpus/tshark_diff.py keys it (our key: VLAN, ICMP identifiers, the innermost
IP header of the tunnels we follow, fragments attributed through the fragment table);
its functions are reused, not copied. Flows are then formed with our rules
(docs/flows.md), once with the profile's timeouts (idle 120 s, active 1800 s) and once
with short ones (idle 1 s, active 4 s) so that flows of these short captures also end by
both timeouts: the input's clock is the newest timestamp of all frames so far; a flow
ends when the clock passes its last packet plus the idle timeout or its first plus the
active timeout (strictly; the reason is the one reached first), on a TCP close (FIN both ways, both acknowledged) or reset after 2 s of linger, or when
a SYN without ACK arrives after a close/reset or a completed handshake; the initiator is
the first packet's sender unless that packet is a SYN+ACK, or, for a flow that continues
one the active timeout cut, that flow's initiator (unless it starts with a SYN without ACK
or after an idle gap).

pandas then computes the columns from the packets of each flow, by definition rather
than by our accumulators: per packet t_ms = ns // 10^6; running maxima and gaps per flow
and per direction (gap = t_ms minus the newest t_ms before it, at least 0); size =
frame.len; counts, sums, min, max, mean and std(ddof=1) with groupby, NaN filled as the
profile defines (0).

Tolerance rule: integers, addresses and lists must be equal; a decimal printed with d
decimals (6 here) matches when |ours - oracle| <= 0.5 * 10^-d + 1e-9 * |oracle|, i.e.
the oracle's value rounds to ours at the last printed digit.

Flows are joined on `id` (the frame number of the flow's first packet, minus 1). ARP
flows are not compared (tshark has no ARP conversations). Packets tshark finds broken in
the headers we read are counted by us as malformed or truncated, in no flow; as in
tshark_diff.py, the oracle builds its flows with and without them, and a flow matches
when it equals either (counted as explained). Anything else that differs fails.

Output: "FILE: K/N flows match" per capture (then the first differing flows, column by
column), a per-theme summary and the final "N passed, N failed" (one test per capture).
Environment: NFM_SHARED (corpus root holding pcaps/), NFM_PROG, NFM_JOBS (default 2),
NFM_ONLY (substring filter on file names), NFM_SHOW (differing flows shown, default 5).
"""
import bisect
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "corpus"))
import tshark_diff as td  # noqa: E402  (the keying of tshark's packets)
import oracle_run  # noqa: E402  (the corpus, the checks run two at a time)

try:
    import pandas as pd
except ImportError:  # the wrapper script chooses an interpreter that has it
    pd = None

SPLT = 8
# The runs compared: the profile's timeouts (NFStream's), then short ones that split
# flows by idle and active timeouts on these short captures (extra options, idle and
# active timeout in ns).
RUNS = [([], 120 * 10**9, 1800 * 10**9),
        (["--flow-timeout", "1", "--active-timeout", "4"], 1 * 10**9, 4 * 10**9)]
LINGER_NS = 2 * 10**9
DECIMALS = 6
SHOW = int(os.environ.get("NFM_SHOW", "5"))

# tshark_diff's fields, then what the TCP state needs (raw sequence numbers, payload).
EXTRA = ["tcp.seq_raw", "tcp.ack_raw", "tcp.len"]
FIELDS = td.FIELDS + EXTRA
XI = {name: len(td.FIELDS) + i for i, name in enumerate(EXTRA)}

SYN, ACK, FIN, RST = 0x02, 0x10, 0x01, 0x04
FLAG_ORDER = [("syn", 0x02), ("cwr", 0x80), ("ece", 0x40), ("urg", 0x20),
              ("ack", 0x10), ("psh", 0x08), ("rst", 0x04), ("fin", 0x01)]
DIRS = ["bidirectional", "src2dst", "dst2src"]

# expiration_id by end reason
EXPIRATION = {"idle": 0, "eof": 0, "active": 1, "tcp": -1}


def run_tshark(path):
    return td.run_tshark(path, FIELDS)


def tunnel_id(toks, l4pos):
    """NFStream's tunnel_id of our outermost tunnel (nDPI's numbers where nDPI has the
    kind, ours from 16): from the layers between the outermost IP header and the next."""
    ips = [i for i, t in enumerate(toks[:l4pos]) if t in ("ip", "ipv6")]
    if len(ips) < 2:
        return 0
    glue = [g for g in toks[ips[0] + 1:ips[1]] if g not in td.V6_EXT]
    for layer, tid in (("gtp", 1), ("l2tp", 4), ("vxlan", 5), ("erspan", 17), ("gre", 16),
                       ("geneve", 19), ("teredo", 20), ("mpls", 21)):
        if layer in glue:
            return tid
    return 18  # IP in IP: nothing between the two headers


class Ordered(td.Variant):
    """tshark_diff's fragment handling, keeping the packets in the order we meter them
    (a fragment that waited for its first fragment comes right after it) with the
    input's clock at that moment."""

    def __init__(self):
        super().__init__()
        self.events = []
        self.clock = 0
        self.nbad = 0

    def add(self, pk, ns, now, length, frame, bad=False):
        self.clock = now
        super().add(pk, ns, now, length, frame, bad)

    def _count(self, pk, sport, dport, ns, length, frame, bad):
        key, d = td.flow_key(pk["v"], pk["proto"], pk["vlan"], pk["src"], sport, pk["dst"], dport)
        self.events.append((key, d, pk, sport, dport, ns, length, frame, self.clock))
        self.nbad += bool(bad)


def read_packets(stdout, fixed):
    """Both variants' packets in metering order (the variant with the broken packets is
    None when there are none), and the clock after every frame."""
    every, clean = Ordered(), Ordered()
    clocks = []
    now = None
    last_ns = 0
    section = None
    index = 0       # our number of the frame: tshark also numbers pcapng blocks that are
                    # no packets (shown as bare "data" without a timestamp); we do not
    for line in stdout.splitlines():
        f = line.split("\t")
        if len(f) < 4:
            continue
        number = int(f[td.IDX["frame.number"]])
        if f[td.IDX["frame.protocols"]] == "data" and not f[td.IDX["frame.time_epoch"]]:
            continue
        index += 1
        if f[td.IDX["frame.section_number"]] != section:
            section = f[td.IDX["frame.section_number"]]
            last_ns = 0
        ns = fixed[number] if number in fixed else td.parse_epoch(f[td.IDX["frame.time_epoch"]], last_ns)
        if f[td.IDX["frame.time_epoch"]]:
            last_ns = ns
        now = ns if now is None else max(now, ns)
        clocks.append(now)
        toks = f[td.IDX["frame.protocols"]].split(":")
        if toks[0] not in td.LINK_TOKENS:
            continue
        pk, _ = td.classify(f)
        if pk is None:
            continue
        k2 = toks[:pk["l4pos"]].count("tcp") if pk["l4pos"] < len(toks) and toks[pk["l4pos"]] == "tcp" else None

        def extra(name):
            v = f[XI[name]].split("|") if XI[name] < len(f) and f[XI[name]] else []
            return int(v[k2]) if k2 is not None and k2 < len(v) and v[k2] else 0
        pk["seq"], pk["ack"], pk["tcp_len"] = extra("tcp.seq_raw"), extra("tcp.ack_raw"), extra("tcp.len")
        pk["tunnel"] = tunnel_id(toks, pk["l4pos"])
        length = int(f[td.IDX["frame.len"]])
        bad = td.header_bad(f, pk)
        every.add(pk, ns, now, length, index, bad)
        if not bad:
            clean.add(pk, ns, now, length, index)
    every.finish()
    clean.finish()
    return every.events if every.nbad else None, clean.events, clocks


# ---------------------------------------------------------------- flow formation

class Flow:
    __slots__ = ("key", "fwd", "born", "lru", "finished", "close", "reason", "prog",
                 "fin_seq", "pkts", "first_frame", "tcp", "first", "kept")

    def __init__(self, key, fwd, clock, frame, first):
        self.key, self.fwd = key, fwd
        self.born = self.lru = clock
        self.finished = False
        self.close = 0
        self.reason = None
        self.prog = set()
        self.fin_seq = [0, 0]
        self.pkts = []
        self.first_frame = frame
        self.tcp = key[1] == 6
        self.first = first            # the first packet's keyed fields
        self.kept = False             # continues a cut flow whose initiator it keeps
                                      # although its first packet is the responder's


def timed_out(fl, clocks, upto, idle, active):
    """Whether a flow that saw no packet since has ended by time when the frames before
    index upto have been read (a clock value past one of its limits), and why: 'idle',
    'active', 'tcp' (a finished connection), or None when it has not."""
    lims = [fl.lru + idle, fl.born + active]
    if fl.finished:
        lims.append(fl.close + min(LINGER_NS, idle))
    first = min(lims)
    i = bisect.bisect_right(clocks, first, 0, upto)
    if i >= upto:
        return None
    if fl.finished:
        return "tcp"
    # both may have passed by then: the one reached first (idle on a tie), as flows.md says
    return "active" if fl.born + active < fl.lru + idle else "idle"


def tcp_update(fl, d, flags, seq, ack, plen, clock):
    """Our connection tracking (src/flow/tcp_state.c): handshake, FINs and their ACKs."""
    p = fl.prog
    if flags & (SYN | ACK) == SYN:
        p.add("syn")
    elif flags & (SYN | ACK) == SYN | ACK:
        p.add("synack")
    elif flags & ACK and d == 0 and "synack" in p:
        p.add("hs")
    if flags & FIN:
        p.add(("fin", d))
        fl.fin_seq[d] = (seq + plen + (2 if flags & SYN else 1)) & 0xffffffff
    if flags & ACK:
        o = 1 - d
        if ("fin", o) in p and ((ack - fl.fin_seq[o]) & 0xffffffff) < 0x80000000:
            p.add(("finack", o))
    if fl.finished:
        return
    if flags & RST or all(x in p for x in (("fin", 0), ("fin", 1), ("finack", 0), ("finack", 1))):
        fl.finished = True
        fl.reason = "tcp"
        fl.close = clock


def form_flows(events, clocks, idle, active):
    """Our flows from the packets in metering order, with these timeouts (ns)."""
    open_ = {}
    done = []
    for key, d, pk, sport, dport, ns, length, frame, clock in events:
        upto = bisect.bisect_right(clocks, clock)   # the frames up to this one
        fl = open_.get(key)
        flags = pk["flags"] or 0
        is_tcp = key[1] == 6
        cont = None     # the initiator a flow cut by the active timeout hands on
        if fl is not None:
            why = timed_out(fl, clocks, upto, idle, active)
            if why is not None:
                fl.reason = fl.reason or why
                done.append(fl)
                # flows.md, Direction: the next flow keeps the initiator unless it starts
                # with a SYN without ACK or came after an idle gap
                if why == "active" and not (is_tcp and flags & (SYN | ACK) == SYN) \
                        and clock - fl.lru <= idle:
                    cont = fl.fwd
                fl = None
        if fl is not None and is_tcp and flags & (SYN | ACK) == SYN and (fl.finished or "hs" in fl.prog):
            fl.reason = fl.reason or "tcp"      # close/reset, or a reused 5-tuple
            done.append(fl)
            fl = None
        if fl is None:
            synack = is_tcp and flags & (SYN | ACK) == SYN | ACK
            fwd = cont if cont is not None else (d if not synack else 1 - d)
            fl = Flow(key, fwd, clock, frame, dict(pk, sport=sport, dport=dport, d=d))
            fl.kept = cont is not None and d != fwd
            open_[key] = fl
        else:
            fl.lru = clock
        dirn = 0 if d == fl.fwd else 1
        fl.pkts.append((ns, dirn, length, flags))
        if is_tcp:
            tcp_update(fl, dirn, flags, pk["seq"], pk["ack"], pk["tcp_len"], clock)
    end = len(clocks)
    for fl in open_.values():
        fl.reason = fl.reason or timed_out(fl, clocks, end, idle, active) or "eof"
        done.append(fl)
    return done


# ---------------------------------------------------------------- the columns

def identity(fl):
    pk = fl.first
    v, proto = fl.key[0], fl.key[1]
    # the initiator's endpoint: the first packet's sender, or its receiver (SYN+ACK)
    a = (pk["src"], pk["sport"]) if fl.fwd == pk["d"] else (pk["dst"], pk["dport"])
    b = (pk["dst"], pk["dport"]) if fl.fwd == pk["d"] else (pk["src"], pk["sport"])
    ports = proto in (6, 17, 132)
    return {
        "id": fl.first_frame - 1,
        "expiration_id": EXPIRATION[fl.reason],
        "src_ip": td.atext(a[0], v), "src_port": a[1] if ports else 0,
        "dst_ip": td.atext(b[0], v), "dst_port": b[1] if ports else 0,
        "protocol": proto, "ip_version": v,
        "vlan_id": fl.key[2] if fl.key[2] is not None else 0,
        "tunnel_id": pk["tunnel"],
    }


def columns(flows):
    """Every column of every flow, as {id: {column: value}}."""
    rows = []
    for i, fl in enumerate(flows):
        for j, (ns, d, length, flags) in enumerate(fl.pkts):
            rows.append((i, j, d, ns // 10**6, length, flags))
    if not rows:
        return {}
    df = pd.DataFrame(rows, columns=["flow", "seq", "dir", "ms", "size", "flags"])
    for name, bit in FLAG_ORDER:
        df[name] = (df["flags"] & bit != 0).astype("int64")

    def gaps(frame, by):
        """gap of each packet against the newest ms of its group before it (NaN first)."""
        newest = frame.groupby(by)["ms"].cummax().astype("Int64")
        prev = newest.groupby([frame[b] for b in by]).shift(1)
        return (frame["ms"].astype("Int64") - prev).clip(lower=0)

    df["gap_bi"] = gaps(df, ["flow"])
    df["gap_dir"] = gaps(df, ["flow", "dir"])

    def stats(frame, by, gap, prefix):
        g = frame.groupby(by)
        out = pd.DataFrame({
            "first_seen_ms": g["ms"].first(), "last_seen_ms": g["ms"].max(),
            "packets": g["size"].count(), "bytes": g["size"].sum(),
            "min_ps": g["size"].min(), "mean_ps": g["size"].mean(),
            "stddev_ps": g["size"].std(ddof=1), "max_ps": g["size"].max(),
        })
        out["duration_ms"] = out["last_seen_ms"] - out["first_seen_ms"]
        gp = frame[frame[gap].notna()].assign(gv=lambda x: x[gap].astype("int64")).groupby(by)["gv"]
        out["min_piat_ms"] = gp.min()
        out["mean_piat_ms"] = gp.mean()
        out["stddev_piat_ms"] = gp.std(ddof=1)
        out["max_piat_ms"] = gp.max()
        for name, _ in FLAG_ORDER:
            out[name + "_packets"] = g[name].sum()
        out = out.fillna(0)
        out.columns = [prefix + "_" + c for c in out.columns]
        return out

    bi = stats(df, ["flow"], "gap_bi", "bidirectional")
    per = [stats(df[df["dir"] == d], ["flow"], "gap_dir", n) for d, n in ((0, "src2dst"), (1, "dst2src"))]
    table = bi.join(per[0], how="left").join(per[1], how="left").fillna(0)

    out = {}
    firsts = df[df["seq"] < SPLT].assign(gap0=lambda x: x["gap_bi"].fillna(0).astype("int64"))
    lists = firsts.groupby("flow")[["dir", "size", "gap0"]].agg(list).to_dict("index")
    splt = {}
    for flow, ls in lists.items():
        pad = [-1] * (SPLT - len(ls["dir"]))
        splt[flow] = (ls["dir"] + pad, ls["size"] + pad, ls["gap0"] + pad)
    recs = table.to_dict("index")
    for i, fl in enumerate(flows):
        row = identity(fl)
        row.update(recs[i])
        d, s, g = splt[i]
        row["splt_direction"], row["splt_ps"], row["splt_piat_ms"] = d, s, g
        out[row["id"]] = row
    return out


# ---------------------------------------------------------------- our side and the comparison

def our_rows(prog, path, work, options):
    """Our rows by id (ARP left out), and the report's count of timestamps we fixed."""
    out = os.path.join(work, "nfs.csv")
    rep = os.path.join(work, "rep")
    res = subprocess.run([prog, path, out, "--profile", "nfstream", "--splt", str(SPLT),
                          "--no-progress", "-q", "--report-dir", rep] + options,
                         capture_output=True, text=True)
    fixed = 0
    for name in os.listdir(rep) if os.path.isdir(rep) else []:
        if name.endswith("_report.json"):
            with open(os.path.join(rep, name)) as fh:
                fixed = json.load(fh).get("source_anomalies", {}).get("ts_fixed", 0)
    rows = {}
    if os.path.exists(out):
        with open(out, newline="") as fh:
            for row in csv.DictReader(fh):
                if row["ip_version"] == "0":
                    continue  # ARP: not compared
                rows[int(row["id"])] = row
    return res.returncode, rows, res.stderr, fixed


def same(col, ours, want):
    """The tolerance rule of the module docstring."""
    if col.startswith("splt_"):
        return ours == "[" + ", ".join(str(int(x)) for x in want) + "]"
    if "_mean_" in col or "_stddev_" in col:
        return abs(float(ours) - float(want)) <= 0.5 * 10**-DECIMALS + 1e-9 * abs(float(want))
    if isinstance(want, str):
        return ours == want
    return int(ours) == int(want)


def differences(ours, want):
    return [c for c in ours if not same(c, ours[c], want[c])]


def compare(name, ours, clean, every, label):
    """Lines about one run, the ids that differ, and what the matching flows exercised."""
    ids = sorted(set(ours) | set(clean))
    bad, explained = [], 0
    for i in ids:
        o = ours.get(i)
        c, e = clean.get(i), every.get(i)
        if o is not None and c is not None and not differences(o, c):
            continue
        if (o is not None and e is not None and not differences(o, e)) or (o is None and c is None):
            explained += 1      # packets tshark finds broken: ours leaves them out, or not
            continue
        bad.append(i)
    note = f" ({explained} via malformed/truncated packets)" if explained else ""
    lines = [f"{name}{label}: {len(ids) - len(bad)}/{len(ids)} flows match{note}"]
    for i in bad[:SHOW]:
        o, c = ours.get(i), clean.get(i)
        if o is None or c is None:
            lines.append(f"  mismatch id {i}: {'only the oracle' if o is None else 'only ours'} has it")
            continue
        lines.append(f"  mismatch id {i} {o['src_ip']}:{o['src_port']} -> {o['dst_ip']}:{o['dst_port']} proto {o['protocol']}")
        for col in differences(o, c)[:8]:
            lines.append(f"    {col}: ours {o[col]} oracle {c[col]}")
    if len(bad) > SHOW:
        lines.append(f"  ... {len(bad) - SHOW} more differing flows")
    seen = defaultdict(int)
    for i in ids:
        if i in ours and i not in bad:
            o = ours[i]
            seen["expiration_id " + o["expiration_id"]] += 1
            seen["more than %d packets" % SPLT] += int(o["bidirectional_packets"]) > SPLT
            seen["both directions"] += o["dst2src_packets"] != "0"
    return lines, len(ids) - len(bad), len(ids), seen


def check(args):
    name, pcaps, prog = args
    path = os.path.join(pcaps, name)
    res = run_tshark(path)
    if res.returncode != 0 and not res.stdout.strip():
        err = (res.stderr.strip().splitlines() or ["?"])[-1]
        return name, "skip", [f"{name}: skipped: tshark cannot read it ({err})"], 0, 0, {}
    lines, good, total, seen, ok = [], 0, 0, defaultdict(int), True
    every_ev = clean_ev = clocks = None
    for options, idle, active in RUNS:
        with tempfile.TemporaryDirectory() as work:
            rc, ours, err, report_fixed = our_rows(prog, path, work, options)
        if clocks is None:
            fixed = td.pcap_fixed_times(path) if report_fixed else {}
            every_ev, clean_ev, clocks = read_packets(res.stdout, fixed)
        flows = form_flows(clean_ev, clocks, idle, active)
        seen["pieces that keep their initiator"] += sum(fl.kept for fl in flows)
        clean = columns(flows)
        every = columns(form_flows(every_ev, clocks, idle, active)) if every_ev is not None else clean
        label = " [" + " ".join(options) + "]" if options else ""
        more, g, t, ex = compare(name, ours, clean, every, label)
        lines += more
        if rc not in (0, 3):
            lines.append(f"  FAIL {name}{label}: exit status {rc}: {err.strip()[:200]}")
        ok = ok and g == t and rc in (0, 3)
        good, total = good + g, total + t
        for k, v in ex.items():
            seen[k] += v
    return name, "pass" if ok else "fail", lines, good, total, seen


def main():
    ready = oracle_run.setup(HERE, pd is not None)
    if not isinstance(ready, tuple):
        return ready
    passed = failed = 0
    themes = defaultdict(lambda: [0, 0])
    seen = defaultdict(int)
    for name, status, lines, good, total, ex in oracle_run.results(*ready, check):
        if status == "skip":
            continue
        for k, v in ex.items():
            seen[k] += v
        th = themes[name.split("/")[0]]
        th[0] += good
        th[1] += total
        if status == "pass":
            passed += 1
        else:
            failed += 1
    print("per theme (flows matched / total):")
    for th in sorted(themes):
        print(f"  {th}: {themes[th][0]}/{themes[th][1]}")
    print("matching flows with: " + ", ".join(f"{k} {seen[k]}" for k in sorted(seen)))
    # The corpus must exercise what the runs are for: flows cut by the active timeout
    # whose next piece starts with the responder's packet.
    if passed + failed == 0 or not seen["pieces that keep their initiator"]:
        print("FAIL: no capture checked, or no flow continued from the responder's side")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
