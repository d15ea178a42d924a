#!/usr/bin/python3
"""Writes an UNTRAINED denoiser graph of a given architecture, for timing only (issue 21: a larger
denoiser must still run a batch-8 forward in ≤ 100 ms in onnxruntime-node on 2 cores).

The graph is exported exactly as the shipped one (export.py's settings, the current v4s_model
code), with random weights: its speed is the trained model's, its outputs mean nothing. Time it
beside the shipped graph with `node dist/scripts/profileDenoiser.js SHIPPED.onnx FILE.onnx`.

  /usr/bin/python3 models/training/arch_graph.py --dim 192 --depth 7 --heads 4 --out /tmp/d192.onnx
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export import export_denoiser  # noqa: E402
from v4s_model import Denoiser, count_flops, count_params  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--depth", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default=os.path.normpath(os.path.join(HERE, "..", "v4s-small")), help="the shipped model: latent shape, patch, vocabulary, K + N")
    a = ap.parse_args()
    if a.dim % a.heads != 0 or (a.dim // a.heads) % 8 != 0:
        raise SystemExit(f"--dim {a.dim} / --heads {a.heads}: expected a head width that is a multiple of 8 (rotary pairs split 2:1:1), found {a.dim / a.heads:g}")
    m = json.load(open(os.path.join(a.model, "manifest.json")))
    arch = m["training"]["architecture"]
    lat = m["latent"]
    F = m["context_frames"] + m["target_frames"]
    torch.manual_seed(0)
    den = Denoiser(arch["latent_ch"], lat["height"], arch["patch"], a.dim, a.depth, a.heads, len(m["vocabulary"]))
    # adaLN-Zero and the output layer start at zero: give every weight a value, so that no
    # kernel sees an all-zero operand (the timing is then the trained model's)
    with torch.no_grad():
        for p in den.parameters():
            p.normal_(0, 0.02)
    den.eval()
    B = 8
    args = (torch.randn(B, F, lat["channels"], lat["height"], lat["width"]), torch.rand(B, F), torch.arange(F, dtype=torch.float32).repeat(B, 1), torch.ones(B, dtype=torch.int64))
    flops = count_flops([den], lambda: den(*args))
    export_denoiser(den, args, a.out)
    print(f"dim {a.dim} depth {a.depth} heads {a.heads}: {count_params(den) / 1e6:.2f} M parameters, "
          f"{flops / 1e9:.3f} GFLOP per batch-8 forward of {F} frames; wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
