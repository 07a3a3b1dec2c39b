#!/usr/bin/env bash
# The README's scikit-learn example on a cic CSV, run as it is written there, and the
# promise before it: the CSV loads in pandas with every column but the five text ones
# numeric and no empty cell. Skips when no python3 has pandas and scikit-learn.
. "$(dirname "$0")/../lib/preamble.sh"
py=
for c in python3 /usr/bin/python3; do
	if "$c" -c 'import pandas, sklearn' >/dev/null 2>&1; then py=$c; break; fi
done
if [ -z "$py" ]; then
	echo "skipped: no python3 with pandas and scikit-learn (scripts/install-deps.sh installs them)"
	nfm_finish; exit
fi
# The python block after the marker line of README.md.
awk '/^<!-- cic-example:/ { m = 1; next } m && /^```python/ { on = 1; next } on && /^```/ { exit } on' \
	"$ROOT/README.md" >"$work/example.py"
if [ -s "$work/example.py" ] && grep -q RandomForestClassifier "$work/example.py"; then ok; else bad "no example block in README.md"; fi

cd "$work" || exit 1
if "$BUILD/nfm-gencap" --packets 20000 --seed 1 sample.pcap >/dev/null 2>"$work/err" &&
	"$PROG" sample.pcap sample_cic.csv --profile cic --no-progress -q 2>"$work/err"; then ok
else bad "generate and convert the sample"; show_err; fi

cat >"$work/loads.py" <<'PY'
import sys
import pandas as pd
flows = pd.read_csv("sample_cic.csv")
text = {"Flow ID", "Source IP", "Destination IP", "Timestamp", "Label"}
problems = []
if flows.shape[1] != 85 or len(flows) < 1000:
    problems.append(f"shape {flows.shape}")
if list(flows.columns).count("Fwd Header Length") != 1 or "Fwd Header Length.1" not in flows:
    problems.append("Fwd Header Length is not read twice (pandas: .1)")
for col in flows.columns:
    if col not in text and not pd.api.types.is_numeric_dtype(flows[col]):
        problems.append(f"{col} is not numeric ({flows[col].dtype})")
missing = int(flows.isna().sum().sum())
if missing:
    problems.append(f"{missing} empty cells")
for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
PY
if "$py" "$work/loads.py"; then ok; else bad "the cic CSV does not load cleanly in pandas"; fi

if "$py" "$work/example.py" >"$work/out" 2>"$work/err"; then ok; else bad "the README example fails"; show_err; fi
# The flows carry the service: well above the share of the largest class (0.44).
if awk '/^accuracy/ { exit !($2 >= 0.6) } END { if (NR == 0) exit 1 }' "$work/out"; then ok
else bad "example accuracy: $(cat "$work/out")"; fi
nfm_finish
