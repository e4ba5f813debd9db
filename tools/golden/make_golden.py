#!/usr/bin/env python3
"""Writes the PyTorch golden file that tests/cpu/test_golden.cpp checks the engine against.

A reduced-width ResNet-18 (CIFAR variant, exactly as ../shared/METHODS.md) in float64:
  initial parameters and BN buffers, an input batch and labels, the logits, the mean cross-entropy, every
  parameter gradient, the BN running statistics after that first training step, and the losses of 5 SGD steps
  (momentum 0.9, weight decay 5e-4, lr 0.1) on the same batch, plus the stem's and classifier's parameters after them
  and the eval-mode logits (BN on running statistics) at the end.

Usage: pip install torch numpy && python3 tools/golden/make_golden.py tests/golden/resnet18_golden.bin
The format is bts's tensor file (engine/tensor_file.h). Bump FORMAT_VERSION when the content changes.
"""
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = 1
WIDTH = 0.125          # stage widths 8/16/32/64
CLASSES = 10
IN_CH = 3
HW = 20                # 20 -> 10 -> 5 -> 3: odd sizes exercise padding and stride edges
BATCH = 8
LR, MOMENTUM, WD, STEPS = 0.1, 0.9, 5e-4, 5
SEED = 1234


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, width, classes, in_ch):
        super().__init__()
        w = max(1, round(64 * width))
        self.conv1 = nn.Conv2d(in_ch, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        cin = w
        for stage, stride in enumerate([1, 2, 2, 2]):
            cout = w << stage
            blocks = []
            for b in range(2):
                blocks.append(BasicBlock(cin, cout, stride if b == 0 else 1))
                cin = cout
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.linear = nn.Linear(8 * w, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


DTYPE_CODES = {torch.float32: 0, torch.float64: 1, torch.uint8: 2, torch.int32: 3, torch.int64: 4}


def write_tensor_file(path, tensors):
    with open(path, "wb") as f:
        f.write(b"BTSTENS\0")
        f.write(struct.pack("<II", 1, len(tensors)))
        for name in sorted(tensors):
            t = tensors[name].detach().contiguous().cpu()
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<II", DTYPE_CODES[t.dtype], t.dim()))
            for d in t.shape:
                f.write(struct.pack("<q", d))
            f.write(t.numpy().tobytes())


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/resnet18_golden.bin"
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    model = ResNet18(WIDTH, CLASSES, IN_CH)
    # Non-trivial BN affine parameters and running statistics, so a swapped gamma/beta or mean/var shows.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model.train()
    x = torch.randn(BATCH, IN_CH, HW, HW)
    y = torch.randint(0, CLASSES, (BATCH,))

    t = {}
    meta = dict(format_version=FORMAT_VERSION, width=WIDTH, classes=CLASSES, in_channels=IN_CH, lr=LR,
                momentum=MOMENTUM, weight_decay=WD, steps=STEPS)
    for k, v in meta.items():
        t["meta." + k] = torch.tensor([float(v)])
    for name, p in model.named_parameters():
        t["init." + name] = p.detach().clone()
    for name, b in model.named_buffers():
        if not name.endswith("num_batches_tracked"):
            t["init." + name] = b.detach().clone()
    t["input"] = x
    t["labels"] = y

    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        if step == 0:
            t["logits"] = logits.detach().clone()
            t["loss"] = loss.detach().reshape(1).clone()
            for name, p in model.named_parameters():
                t["grad." + name] = p.grad.detach().clone()
            for name, b in model.named_buffers():
                if not name.endswith("num_batches_tracked"):
                    t["bn_after." + name] = b.detach().clone()
        losses.append(loss.item())
        opt.step()
    t["step_losses"] = torch.tensor(losses)
    # Eval mode after the steps: BN with the running statistics the 5 training forwards left behind.
    model.eval()
    with torch.no_grad():
        t["eval_logits"] = model(x)
    # After 5 steps: a few parameters (the stem and the classifier), enough to pin the optimizer's arithmetic
    # without doubling the file.
    for name, p in model.named_parameters():
        if name.startswith(("conv1.", "bn1.", "linear.")):
            t["final." + name] = p.detach().clone()
    write_tensor_file(out_path, t)
    print(f"wrote {out_path}: {len(t)} tensors, losses {['%.6f' % l for l in losses]}")


if __name__ == "__main__":
    main()
