#!/usr/bin/env bash
# Runs the per-flow differential test against tshark over the shared corpus (see
# tshark_diff.py; NFM_SHARED, NFM_PROG, NFM_JOBS, NFM_ONLY and NFM_SHOW are passed on).
cd "$(dirname "$0")/../.." && exec python3 tests/corpus/tshark_diff.py
