#!/usr/bin/env python3
"""The side-by-side table of docs/PERFORMANCE.md from one device call: bench's JSON (ours, one row per precision)
and tools/peer_step.py's JSON lines (PyTorch, one per configuration), for the same model, batch and image size.

Usage:
  python3 tools/perf_table.py --bench bench.json --peer bench.log [--size 32 --classes 10 --batch 128]
--peer takes any text file: its lines that start with {"peer" are read (gpu_check appends them to bench.log).
Prints a Markdown table: our images/s per precision, each PyTorch configuration's, and the ratios that matter
(ours against the PyTorch configuration of the same arithmetic, and our best against PyTorch's best), then one
line per missing input. Exits 1 when either side has no matching row.
"""
import argparse
import json
import sys

# Which of our precisions each PyTorch configuration is the like-for-like peer of (the faster where two are).
PEER_OF = {"eager fp32": ["fp32"], "eager TF32": ["tf32", "tf32-nhwc"], "AMP bf16 + channels_last": ["bf16", "bf16-cudnn-bn"],
           "torch.compile (AMP bf16 + channels_last)": ["bf16", "bf16-cudnn-bn"]}


def best_rate(r):
    """Our step's images/s: eager, or replayed as a CUDA graph when bench captured one and it was faster."""
    rate = r["images_per_second"]
    if r.get("step_graph"):
        rate = max(rate, r.get("graph_images_per_second", 0.0))
    return rate


def ours_rows(path, size, classes, batch):
    with open(path) as f:
        j = json.load(f)
    rows = {}
    for r in j.get("results", []):
        if r.get("image_size") == size and r.get("classes") == classes and r.get("batch") == batch:
            rows[r["precision"]] = r
    return rows, j.get("device", "")


def peer_rows(path, size, classes, batch):
    rows = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith('{"peer"'):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if r.get("image_size") == size and r.get("classes") == classes and r.get("batch") == batch:
                rows[r.get("label") or "unlabelled"] = r
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    ours, device = ours_rows(a.bench, a.size, a.classes, a.batch)
    peers = peer_rows(a.peer, a.size, a.classes, a.batch)
    print("ResNet-18 training step, %dx%d, %d classes, batch %d; %s" % (a.size, a.size, a.classes, a.batch, device))
    print()
    print("| ours | img/s | ms/step | as a CUDA graph img/s | PyTorch | img/s | ms/step | ours (best of the two) / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, peer in peers.items():
        candidates = [ours[p] for p in PEER_OF.get(label, []) if p in ours]
        mine = max(candidates, key=best_rate) if candidates else None
        if mine is None:
            print("| (no %s row) | | | | %s | %.0f | %.2f | |" % ("/".join(PEER_OF.get(label, ["?"])), label,
                                                               peer["images_per_second"], peer["step_ms_median"]))
            continue
        graph = "%.0f" % mine["graph_images_per_second"] if mine.get("step_graph") else "-"
        print("| %s | %.0f | %.2f | %s | %s | %.0f | %.2f | %.2fx |" % (
            mine["precision"], mine["images_per_second"], mine["step_ms_median"], graph, label,
            peer["images_per_second"], peer["step_ms_median"], best_rate(mine) / peer["images_per_second"]))
    if ours and peers:
        best = max(ours.values(), key=best_rate)
        best_label, best_peer = max(peers.items(), key=lambda kv: kv[1]["images_per_second"])
        print()
        print("our best (%s%s, %.0f img/s) / PyTorch's best (%s, %.0f img/s): %.2fx (the goal: 1.5x)" % (
            best["precision"], ", CUDA graph" if best_rate(best) > best["images_per_second"] else "", best_rate(best),
            best_label, best_peer["images_per_second"], best_rate(best) / best_peer["images_per_second"]))
        if "iteration_images_per_second" in best:
            full = best["iteration_images_per_second"]
            print("our best as a whole unif-SGD iteration (epoch draw, batch build with crop + flip, the step; bench "
                  "measured, %.2f ms): %.0f img/s, %.2fx PyTorch's best step (which builds no batch)" % (
                      best["iteration_ms"], full, full / best_peer["images_per_second"]))
        if best.get("step_graph") and "graph_iteration_images_per_second" in best:
            full = best["graph_iteration_images_per_second"]
            print("the same whole iteration as one CUDA graph, as the trainer runs it (%.2f ms): %.0f img/s, %.2fx "
                  "PyTorch's best step" % (best["graph_iteration_ms"], full, full / best_peer["images_per_second"]))
    if "bf16" in ours and "bf16-cudnn-bn" in ours:
        own, dnn = ours["bf16"], ours["bf16-cudnn-bn"]
        print()
        print("bf16 with our BatchNorm kernels %.0f img/s vs with cuDNN's fused NHWC BatchNorm %.0f img/s: ours %.2fx "
              "(the faster should be the default: config batchnorm)" % (
                  best_rate(own), best_rate(dnn), best_rate(own) / best_rate(dnn)))
    if "bf16" in ours and "bf16-cast" in ours:
        own, cast = ours["bf16"], ours["bf16-cast"]
        print()
        print("our bf16 kernels (NHWC) %.0f img/s vs bf16 through the f32 kernels between casts (NCHW) %.0f img/s: "
              "%.2fx" % (own["images_per_second"], cast["images_per_second"],
                         own["images_per_second"] / cast["images_per_second"]))
    missing = [p for p in ("fp32", "tf32", "bf16") if p not in ours]
    if missing:
        print("ours: no row for %s in %s" % (", ".join(missing), a.bench))
    missing = [label for label in PEER_OF if label not in peers]
    if missing:
        print("PyTorch: no line for %s in %s" % ("; ".join(missing), a.peer))
    return 0 if ours and peers else 1


if __name__ == "__main__":
    sys.exit(main())
