#!/usr/bin/env python3
"""Selective backprop's cost beside unif-SGD's at the same budget, from two runs' result.json (gpu_check's stage
sb_cost). The issue's goal: SB's wall clock within 1.3x unif-SGD's (the paper measured 1.94x).

Prints each run's wall clock, its time outside evaluation (the sum of phase_seconds without "evaluation") and its
steps, then one line with the two ratios, which gpu_check puts in its summary."""
import json
import sys


def load(path):
    with open(path) as f:
        r = json.load(f)
    phases = r.get("phase_seconds", {})
    training = sum(v for k, v in phases.items() if k != "evaluation")
    return r, r["wall_clock_seconds"], training


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sb_cost.py UNIF_RESULT_JSON SB_RESULT_JSON")
    (ru, wu, tu), (rs, ws, ts) = load(sys.argv[1]), load(sys.argv[2])
    for name, r, w, t in (("unif-sgd", ru, wu, tu), ("sb", rs, ws, ts)):
        spent = r.get("budget_spent", {})
        print(f"{name:9s} wall {w:8.2f} s  outside evaluation {t:8.2f} s  steps {spent.get('iterations')}  "
              f"scored {spent.get('samples_scored')}  test accuracy {r.get('final_test_accuracy')}  "
              f"step_graph {json.dumps(r.get('step_graph'))}")
    print(f"SB / unif-SGD at B = {ru.get('budget_asked', {}).get('budget', '?')}: wall clock {ws / max(wu, 1e-9):.2f}x, "
          f"outside evaluation {ts / max(tu, 1e-9):.2f}x (goal 1.3x; the paper 1.94x)")


if __name__ == "__main__":
    main()
