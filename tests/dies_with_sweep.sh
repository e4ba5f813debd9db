#!/usr/bin/env bash
# A bts run started by a sweep (BTS_PARENT_PID set, as experiments/process.cpp does) ends as on SIGTERM, with a
# checkpoint, when the sweep process dies, even by kill -9: killing only a sweep's parent must not leave its runs
# going on unattended (and a rerun of the sweep would otherwise resume a directory still being written).
#   tests/dies_with_sweep.sh <bts binary> <run directory>
set -u
bts=$1
d=$2
rm -rf "$d" "$d.pid"
mkdir -p "$(dirname "$d")"
# The "sweep": a shell that starts bts as its child with BTS_PARENT_PID set to itself, then waits.
bash -c 'export BTS_PARENT_PID=$$
         "$0" train --dataset fashion-mnist --method sgd --budget 1 --epochs 40 --width 0.0625 --train-subset 4096 \
           --set test_subset=100 --set batch_size=32 --set eval_every=40 --device cpu --run-dir "$1" --quiet &
         echo $! > "$1.pid"
         wait' "$bts" "$d" &
sweep=$!
# Let the run begin training (its log has the header line, then a moment of steps).
for _ in $(seq 1 300); do grep -q "bts train:" "$d/log.txt" 2>/dev/null && break; sleep 0.1; done
sleep 1.5
kill -9 "$sweep"
wait "$sweep" 2>/dev/null
pid=$(cat "$d.pid")
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: bts ($pid) still running 30 s after its sweep was killed"
  kill -9 "$pid"
  exit 1
fi
if [ ! -f "$d/checkpoint.bin" ] || [ -f "$d/result.json" ]; then
  echo "FAIL: expected an interrupted run with a checkpoint in $d"; ls -la "$d"; cat "$d/log.txt"; exit 1
fi
echo "OK: the run ended with a checkpoint when its sweep was killed"; tail -n 2 "$d/log.txt"
