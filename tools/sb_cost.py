#!/usr/bin/env python3
"""Selective backprop's cost beside unif-SGD's at the same budget, from the runs' result.json (gpu_check's stage
sb_cost). The issue's goal: SB's wall clock within 1.3x unif-SGD's (the paper measured 1.94x).

usage: sb_cost.py UNIF_RESULT_JSON SB_RESULT_JSON [SB_RESULT_JSON ...]
Prints each run's wall clock, its time outside evaluation (the sum of phase_seconds without "evaluation"), steps
and scored samples, then per SB run one line with its two ratios to unif-SGD; the first SB run's line comes last,
for gpu_check's summary."""
import json
import sys


def load(path):
    with open(path) as f:
        r = json.load(f)
    phases = r.get("phase_seconds", {})
    training = sum(v for k, v in phases.items() if k != "evaluation")
    staleness = r.get("config", {}).get("sb", {}).get("staleness", 0)
    name = r.get("config", {}).get("method", "?")
    if name == "sb" and staleness:
        name += f" (staleness {staleness})"
    return name, r, r["wall_clock_seconds"], training


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    runs = [load(p) for p in sys.argv[1:]]
    for name, r, w, t in runs:
        spent = r.get("budget_spent", {})
        print(f"{name:24s} wall {w:8.2f} s  outside evaluation {t:8.2f} s  steps {spent.get('iterations')}  "
              f"scored {spent.get('samples_scored')}  test accuracy {r.get('final_test_accuracy')}  "
              f"step_graph {json.dumps(r.get('step_graph'))}")
    _, ru, wu, tu = runs[0]
    budget = ru.get("budget_asked", {}).get("budget", "?")
    lines = [f"{name} / unif-SGD at B = {budget}: wall clock {w / max(wu, 1e-9):.2f}x, "
             f"outside evaluation {t / max(tu, 1e-9):.2f}x (goal 1.3x; the paper 1.94x)"
             for name, _, w, t in runs[1:]]
    for line in lines[1:] + lines[:1]:
        print(line)


if __name__ == "__main__":
    main()
