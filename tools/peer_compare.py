#!/usr/bin/env python3
"""Side by side: the engine's `bench` and the PyTorch peer (tools/peer_step.py) on the same model, batch and step,
run alternately (engine, peer, engine, peer, ...) so that both see the same machine state, and the ratio of their
median steps printed per width.

Usage (from the repository root, after building; PyTorch in the Python given by --python):
  python3 tools/peer_compare.py --device cpu --widths 0.125 0.25 1 --rounds 3
  python3 tools/peer_compare.py --device cuda --widths 1 --size 32 --peer-args="--channels-last --amp"
Each round runs each side once with --iters timed steps after --warmup; a side's median is the median of its
rounds' medians. "speed" is peer ms / engine ms: above 1, the engine is faster. --json writes every number.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_engine(a, width):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.json")
        cmd = [a.bench, "--device", a.device, "--width", str(width), "--batch", str(a.batch), "--sizes", str(a.size),
               "--classes", str(a.classes), "--warmup", str(a.warmup), "--iters", str(a.iters), "--step-only",
               "--json", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            j = json.load(f)
    return j["results"][0]["step_ms_median"]


def run_peer(a, width):
    cmd = [a.python, os.path.join(ROOT, "tools", "peer_step.py"), "--device", a.device, "--width", str(width),
           "--batch", str(a.batch), "--size", str(a.size), "--classes", str(a.classes), "--warmup", str(a.warmup),
           "--iters", str(a.iters)] + shlex.split(a.peer_args)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--widths", type=float, nargs="+", default=[0.125, 0.25, 1.0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "default", "apps", "bench"))
    ap.add_argument("--python", default=sys.executable, help="the Python that has torch")
    ap.add_argument("--peer-args", default="", help="extra peer_step.py flags, e.g. --channels-last --amp")
    ap.add_argument("--json", help="write every round's numbers here")
    a = ap.parse_args()
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"peer_compare: no bench at {a.bench} (build first, or pass --bench)")
    if a.rounds < 1 or a.iters < 1:
        sys.exit("peer_compare: --rounds and --iters must be >= 1")

    results = []
    print(f"{'width':>6} | {'engine ms/step':>14} {'img/s':>7} | {'PyTorch ms/step':>15} {'img/s':>7} | speed")
    for w in a.widths:
        eng, peer, info = [], [], None
        for _ in range(a.rounds):
            eng.append(run_engine(a, w))
            info = run_peer(a, w)
            peer.append(info["step_ms_median"])
        e, p = statistics.median(eng), statistics.median(peer)
        results.append({"width": w, "engine_ms": eng, "peer_ms": peer, "engine_median_ms": e, "peer_median_ms": p,
                        "speed": p / e, "torch": info["torch"], "peer_threads": info["threads"]})
        print(f"{w:>6g} | {e:>14.1f} {a.batch / e * 1000:>7.0f} | {p:>15.1f} {a.batch / p * 1000:>7.0f} | "
              f"{p / e:.2f}x", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": a.device, "batch": a.batch, "size": a.size, "classes": a.classes,
                       "warmup": a.warmup, "iters": a.iters, "rounds": a.rounds, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
