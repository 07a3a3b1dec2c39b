#!/usr/bin/env python3
"""The NetFlow side against Debian's nfpcapd + nfdump 1.7.1, on every capture of the
shared corpus:

  * the python-netflow workflow in one command (-of nfdump-dict) gives JSON that parses,
    one array per slice, slices contiguous (empty ones included), and every slice file
    nfpcapd writes for the capture is a key of ours;
  * slices partition the packets: per direction and 5-tuple, the sums over our slices
    equal the sums of our unsliced -of nfdump output;
  * per direction and 5-tuple (ICMP: type and code), packets and bytes equal those of
    `nfpcapd -r CAP -w DIR; nfdump -R DIR -o json`, except on the captures listed in
    docs/netflow.md (## Differences on the shared corpus) with the reason; a listed
    capture that no longer differs fails too, so the list stays true.

Usage: nfpcapd_compare.py PROG CORPUS DOC. Prints "N passed, N failed"."""
import collections, json, multiprocessing, os, re, shutil, subprocess, sys, tempfile

PROG, CORPUS, DOC = sys.argv[1:4]
SLICE = 300
GAP_MAX = 10000  # NFM_SLICE_GAP_MAX
ENV = dict(os.environ, TZ='UTC', LC_ALL='C')


def nfdump_array(text):
    # nfdump 1.7.1 prints "No matching flows" inside the brackets of an empty result.
    text = text.replace('No matching flows\n', '')
    return json.loads(text) if text.strip() else []


def key(r):
    if 'icmp_type' in r:
        sp, dp = 0, r['icmp_type'] * 256 + r['icmp_code']
    else:
        sp, dp = r['src_port'], r['dst_port']
    return (r.get('src4_addr', r.get('src6_addr')), r.get('dst4_addr', r.get('dst6_addr')),
            r['proto'], sp, dp)


def sums(records):
    m = collections.defaultdict(lambda: [0, 0])
    for r in records:
        k = key(r)
        m[k][0] += r['in_packets']
        m[k][1] += r['in_bytes']
    return dict(m)


def slice_start(name):
    m = re.fullmatch(r'nfcapd\.(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?', name)
    if not m:
        return None
    import calendar
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s))


def check(cap):
    """Returns (capture, list of failures, outcome) for one capture."""
    fails = []
    work = tempfile.mkdtemp()
    try:
        path = os.path.join(CORPUS, cap)
        d = subprocess.run([PROG, path, work + '/dict.json', '-of', 'nfdump-dict', '-q',
                            '--no-report'], capture_output=True, text=True, env=ENV)
        u = subprocess.run([PROG, path, work + '/all.json', '-of', 'nfdump', '-q'],
                           capture_output=True, text=True, env=ENV)
        if d.returncode not in (0, 3) or u.returncode not in (0, 3):
            # a capture damaged on purpose that we refuse (exit 1, nothing written); any
            # other failure, a crash or a signal is a failure of ours
            if d.returncode == u.returncode == 1 and cap.startswith('corrupt/'):
                return cap, fails, 'unreadable'
            return cap, [f'{cap}: exit status {d.returncode} / {u.returncode}: '
                         f'{(d.stderr or u.stderr).strip()[:200]}'], 'bad'
        try:
            slices = json.load(open(work + '/dict.json'))
            ours = json.load(open(work + '/all.json'))
            backwards = '"ts_backwards": 0,' not in open(work + '/all_report.json').read()
        except ValueError as e:
            return cap, [f'{cap}: our JSON does not parse: {e}'], 'bad'
        starts = [slice_start(n) for n in slices]
        if None in starts or any(not isinstance(v, list) for v in slices.values()):
            fails.append(f'{cap}: a dict key is not a slice name or a value not an array')
        elif any(b - a != SLICE and b - a <= SLICE * (GAP_MAX + 1)
                 for a, b in zip(starts, starts[1:])):
            # every slice from the first packet's to the last one's, except across a gap
            # of more than GAP_MAX empty slices (skipped with a warning)
            fails.append(f'{cap}: slices not contiguous: {list(slices)[:6]}')
        sliced = sums([r for v in slices.values() for r in v])
        whole = sums(ours)
        if sliced != whole:
            bad = [k for k in set(sliced) | set(whole) if sliced.get(k) != whole.get(k)]
            fails.append(f'{cap}: slices do not add up to the whole: {bad[:3]}')

        nfdir = work + '/nfpcapd'
        os.mkdir(nfdir)
        p = subprocess.run(['nfpcapd', '-r', path, '-w', nfdir], capture_output=True,
                           text=True, env=ENV)
        if p.returncode != 0:
            return cap, fails, 'nfpcapd-fails'
        theirs = []
        names = sorted(os.listdir(nfdir))
        for name in names:
            q = subprocess.run(['nfdump', '-r', os.path.join(nfdir, name), '-o', 'json'],
                               capture_output=True, text=True, env=ENV)
            theirs += nfdump_array(q.stdout)
        t = sums(theirs)
        diff = sorted(k for k in set(whole) | set(t) if whole.get(k) != t.get(k))
        # Formats: where both sides have one record for a key with the same counts, the
        # records are equal key for key, in the same key order, but for the fields
        # nfpcapd fills otherwise (received: wall clock; src_tos: never set).
        mine, yours = collections.defaultdict(list), collections.defaultdict(list)
        for r in ours:
            mine[key(r)].append(r)
        for r in theirs:
            yours[key(r)].append(r)
        same_fmt = 0
        for k, rs in mine.items():
            if len(rs) != 1 or len(yours.get(k, [])) != 1:
                continue
            a, b = dict(rs[0]), dict(yours[k][0])
            if (a['in_packets'], a['in_bytes']) != (b['in_packets'], b['in_bytes']):
                continue
            if list(a) != list(b):
                fails.append(f'{cap}: keys differ from nfdump for {k}: {list(a)} vs {list(b)}')
                break
            # With timestamps going backwards nfpcapd takes the first and last packet read,
            # we the earliest and latest time.
            # A timestamp whose sub-second field is out of range (timestamp_invalid_nano)
            # gives nfdump a time in year 586568; we read it as the capture layer does.
            odd = not all(re.fullmatch(r'\d{4}-.*', b[f]) for f in ('first', 'last'))
            for f in ('received', 'src_tos') + (('first', 'last') if backwards or odd else ()):
                a.pop(f), b.pop(f)
            if a != b:
                fails.append(f'{cap}: record differs from nfdump for {k}: '
                             f'{ {f: (a[f], b[f]) for f in a if a[f] != b[f]} }')
                break
            same_fmt += 1
        if not diff:
            # nfpcapd's files are named after slices that hold packets: ours has each
            fails += [f'{cap}: nfpcapd slice {n} is not a key of ours' for n in names
                      if slices and n not in slices]
        return cap, fails, ('differs', diff, whole, t) if diff else 'same'
    finally:
        shutil.rmtree(work, ignore_errors=True)


def documented():
    """The captures docs/netflow.md lists as differing, with their reasons."""
    listed = {}
    in_section = False
    for line in open(DOC):
        if line.startswith('## '):
            in_section = line.strip() == '## Differences on the shared corpus'
        elif in_section:
            m = re.match(r'\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$', line)
            if m:
                listed[m.group(1)] = m.group(2)
    return listed


def main():
    manifest = os.path.join(CORPUS, 'MANIFEST.tsv')
    caps = [l.split('\t')[0] for l in open(manifest).read().splitlines()[1:] if l.strip()]
    listed = documented()
    passed = failed = 0
    counts = collections.Counter()
    with multiprocessing.Pool(2) as pool:
        results = pool.map(check, caps)
    for cap, fails, outcome in results:
        kind = outcome[0] if isinstance(outcome, tuple) else outcome
        counts[kind] += 1
        if kind == 'differs' and cap not in listed:
            _, diff, a, b = outcome
            fails.append(f'{cap}: differs from nfpcapd on {len(diff)} keys, not listed in '
                         f'docs/netflow.md; e.g. {[(k, a.get(k), b.get(k)) for k in diff[:2]]}')
        if kind == 'same' and cap in listed:
            fails.append(f'{cap}: listed in docs/netflow.md as differing, but equals nfpcapd')
        for f in fails:
            print('FAIL', f)
        if fails:
            failed += 1
        else:
            passed += 1
    stale = sorted(set(listed) - set(caps))
    for cap in stale:
        print('FAIL docs/netflow.md lists a capture not in the corpus:', cap)
        failed += 1
    print('captures: ' + ', '.join(f'{n} {k}' for k, n in sorted(counts.items())))
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
