#!/usr/bin/python3
"""Does the denoiser find the contexts the node gives it harder than those it was trained on?

The flow-matching loss of a denoiser on the target frames, at fixed noise levels and with fixed
noise, on two datasets of the SAME worlds: clips (`dataset`: K − 1 context frames drawn uniformly
from all exploration frames, one forced to show the target) and episodes (`dataset --episodes`: the
node's own draws from its keyframe buffer, name-aware). For each it also scores the context of
another world (the memory control): the gap between the two is how much the context helps.
Usage: /usr/bin/python3 models/training/context_shift.py --clips DIR --episodes DIR [--model DIR]
       [--n 256] [--batch 32] [--levels 0.3,0.6,0.9]
"""
import argparse
import json
import os
import sys
import types

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see train.py)

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import CFG, DEFAULT_MODEL_DIR, EpisodePool, StreamedClips, encoder_for_streaming, load_onnx_initializers, make_denoiser, shipped_arch, use_arch  # noqa: E402


@torch.no_grad()
def losses(den, source, n, batch, levels, K, seed):
    """Mean squared velocity error on the target frames, per noise level, with the true context and
    with the context of another clip of the batch (rolled by one: another world, mostly)."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    out = {lv: [0.0, 0.0] for lv in levels}
    done = 0
    while done < n:
        x0, idx, obj, _ = source.sample(rng, batch, torch.device("cpu"))
        B = x0.shape[0]
        for lv in levels:
            eps = torch.randn(x0.shape, generator=gen)
            xt = (1 - lv) * x0 + lv * eps
            t = torch.zeros(B, x0.shape[1])
            t[:, K:] = lv
            for j, ctx in enumerate((x0[:, :K], torch.roll(x0[:, :K], 1, dims=0))):
                inp = torch.cat([ctx, xt[:, K:]], dim=1)
                v = den(inp, t, idx, obj)
                out[lv][j] += float((v[:, K:] - (eps - x0)[:, K:]).pow(2).mean()) * B
        done += B
    return {lv: (s / done, o / done) for lv, (s, o) in out.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", required=True, help="a `dataset` directory")
    p.add_argument("--episodes", required=True, help="a `dataset --episodes` directory of the same worlds")
    p.add_argument("--model", default=DEFAULT_MODEL_DIR, help="a shipped model directory (denoiser.onnx, encoder.onnx, manifest.json)")
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--levels", default="0.3,0.6,0.9")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    levels = [float(x) for x in a.levels.split(",")]
    meta = json.load(open(os.path.join(a.clips, "meta.json")))
    K = meta["k"]
    use_arch(shipped_arch(a.model))
    den = make_denoiser(len(meta["vocabulary"]))
    n = load_onnx_initializers(den, os.path.join(a.model, "denoiser.onnx"), prefix="den.")
    if n == 0:
        raise SystemExit(f"no denoiser weights in {a.model!r}/denoiser.onnx")
    den.eval()
    dev = torch.device("cpu")
    opts = types.SimpleNamespace(work="", init_from=a.model)
    enc = encoder_for_streaming(opts, dev)
    size = meta["camera"]["width"]
    print(f"denoiser {dict((k, CFG[k]) for k in ('dim', 'depth', 'heads'))} from {a.model}; {a.n} clips per dataset; noise levels {levels}")
    for name, cls, d in (("clips (uniform over all frames, one shows the target)", StreamedClips, a.clips), ("episodes (the node's draws from its keyframes)", EpisodePool, a.episodes)):
        src = cls(types.SimpleNamespace(frames=d), enc, K, den.grid, size, dev, False)
        src.refresh()
        r = losses(den, src, a.n, a.batch, levels, K, seed=7)
        cells = "  ".join(f"t={lv}: {s:.4f} (other world {o:.4f}, gap {o - s:+.4f})" for lv, (s, o) in r.items())
        print(f"{name}: {src.describe()}\n  {cells}")


if __name__ == "__main__":
    main()
