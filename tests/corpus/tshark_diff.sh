#!/usr/bin/env bash
# Runs the tshark differential test (see tshark_diff.py).
cd "$(dirname "$0")/../.." && exec python3 tests/corpus/tshark_diff.py
