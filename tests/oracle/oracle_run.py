"""What both profile oracles do around their check of one capture: find the shared corpus,
the program under test and tshark (skipping with a message when one is missing), and run
the check over every capture of the corpus but corrupt/, two at a time."""
import concurrent.futures
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
import tshark_diff as td  # noqa: E402  (the corpus list)


def setup(here, have_pandas):
    """(pcaps, prog, names) to check, or the exit status after saying why nothing runs."""
    root = os.environ.get("NFM_SHARED") or os.path.join(here, "..", "..", "..", "shared")
    pcaps = os.path.join(root, "pcaps")
    manifest = os.path.join(pcaps, "MANIFEST.tsv")
    prog = os.path.abspath(os.environ.get("NFM_PROG", "nexusflowmeter"))
    why = None
    if not have_pandas:
        why = "no pandas for this python (Debian: python3-pandas)"
    elif not os.path.exists(manifest):
        why = f"no shared corpus at {pcaps}"
    elif not shutil.which("tshark"):
        why = "tshark is not installed"
    if why:
        print(f"skipped: {why}")
        print("0 passed, 0 failed")
        return 0
    if not os.access(prog, os.X_OK):
        print(f"FAIL: {prog} is not built")
        print("0 passed, 1 failed")
        return 1
    return pcaps, prog, td.corpus_names(manifest)


def results(pcaps, prog, names, check):
    """check((name, pcaps, prog)) of every capture, in corpus order, NFM_JOBS (2) at a
    time, each result's lines (its third item) printed as it comes. The program is run
    from a copy, so a rebuild during the run does not change what is tested."""
    jobs = int(os.environ.get("NFM_JOBS", "2"))
    with tempfile.TemporaryDirectory() as snap:
        prog = shutil.copy2(prog, os.path.join(snap, "nexusflowmeter"))
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            for res in pool.map(check, [(n, pcaps, prog) for n in names]):
                print("\n".join(res[2]), flush=True)
                yield res
