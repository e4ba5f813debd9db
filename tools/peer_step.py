#!/usr/bin/env python3
"""The PyTorch peer of `bench`: times the same ResNet-18 training step (the model of tools/golden/make_golden.py,
which is the engine's ResNet-18), the same batch and the same step (forward, mean cross-entropy, backward,
SGD with momentum 0.9 and weight decay 1e-4), and prints one JSON line.

Usage:
  python3 tools/peer_step.py --device cpu --width 0.125 --batch 128 --size 28 --classes 10
  python3 tools/peer_step.py --device cuda --width 1 --size 32 --channels-last --amp
  python3 tools/peer_step.py --device cuda --width 1 --size 32 --tf32 --label "eager TF32"
On CUDA, TF32 is off for convolutions and matmuls unless --tf32 (PyTorch's own default turns it on for cuDNN
convolutions only), so "eager fp32" is true fp32, as `bench --precision fp32` is.
CPU timings are wall clock (time.perf_counter); CUDA timings are CUDA events around each step, after warm-up.
The median step is reported. Threads: --threads (default: torch's default, the machine's cores); bench uses
OpenMP's default, also the machine's cores. tools/peer_compare.py runs this and bench alternately.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
from make_golden import ResNet18  # noqa: E402  (the one PyTorch definition of the engine's model)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--width", type=float, default=0.125)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--in-channels", type=int, default=3, help="3, as bench builds the model")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    ap.add_argument("--amp", action="store_true", help="autocast to bfloat16")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--tf32", action="store_true", help="CUDA: TF32 tensor cores for convolutions and matmuls")
    ap.add_argument("--label", default="", help="a name for this configuration in the JSON line")
    args = ap.parse_args()
    if args.batch < 2 or args.iters < 1 or args.warmup < 0 or args.size < 8 or args.width <= 0:
        ap.error("need batch >= 2, iters >= 1, warmup >= 0, size >= 8, width > 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("peer_step: --device cuda but torch sees no GPU")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = True  # PyTorch's fastest algorithm per shape, as a tuned peer would run

    torch.manual_seed(7)
    dev = torch.device(args.device)
    model = ResNet18(args.width, args.classes, args.in_channels).to(dev)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(args.batch, args.in_channels, args.size, args.size, device=dev).to(memory_format=fmt)
    y = torch.randint(0, args.classes, (args.batch,), device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    step_model = torch.compile(model) if args.compile else model
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=args.device, dtype=torch.bfloat16, enabled=args.amp):
            loss = F.cross_entropy(step_model(x), y)
        loss.backward()
        opt.step()

    times = []
    for it in range(args.warmup + args.iters):
        if args.device == "cuda":
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            stop.record()
            stop.synchronize()
            ms = start.elapsed_time(stop)
        else:
            t0 = time.perf_counter()
            step()
            ms = (time.perf_counter() - t0) * 1000.0
        if it >= args.warmup:
            times.append(ms)
    med = statistics.median(times)
    print(json.dumps({
        "peer": "pytorch", "label": args.label, "torch": torch.__version__, "device": args.device,
        "gpu": torch.cuda.get_device_name() if args.device == "cuda" else "", "tf32": args.tf32,
        "threads": torch.get_num_threads(), "width": args.width, "batch": args.batch, "image_size": args.size,
        "classes": args.classes, "in_channels": args.in_channels, "channels_last": args.channels_last,
        "amp_bf16": args.amp, "compiled": args.compile, "warmup_steps": args.warmup, "timed_steps": args.iters,
        "step_ms_median": med, "images_per_second": args.batch / (med / 1000.0), "step_ms_all": times}))


if __name__ == "__main__":
    main()
