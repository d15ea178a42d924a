#!/usr/bin/python3
"""Memory probe: does the denoiser use its context? On held-out clips (the first --n of the
encoded set, never trained on), the flow-matching loss on the target frames at fixed noise levels,
with (a) the true context, (b) the context of another clip (another world), (c) pure-noise context
(the unconditional branch), (d) the true context with the object dropped, (e) the true context with
another object named (the next category). A model that draws the named object from its name alone
scores (a) ≈ (b); memory shows as (a) < (b). A model that ignores which object was named scores
(a) ≈ (e). When the checkpoint has a grounding head (`train.py dit --ground`), it also reports how
well the head finds the named object's tokens in the held-out context frames, when the right
object is named and when another one is.
Usage: /usr/bin/python3 models/training/probe.py --work ~/v4s_runs/v4s-small [--n 256]
"""
import argparse
import json
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see train.py)

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import ground_rates, load_ground_targets, make_denoiser, other_object, relative_indices, use_arch  # noqa: E402


def grounding(a, s, x0, ix, ob, obj_all, K, meta):
    """The grounding head on held-out clean contexts: recall on the tokens that show the target
    (coverage > 0.5) and the share of empty tokens it leaves empty, with the right name and with the
    next category's name (same tokens: a head that ignores the name scores the same)."""
    # the head was trained against the live weights, not their moving average
    den = make_denoiser(len(meta["vocabulary"]))
    den.load_state_dict(s["den"] if "den" in s else s["ema"])  # a --snapshot file keeps the average only
    den.eval()
    head = torch.nn.Linear(den.dim, 1)
    head.load_state_dict(s["ground"])
    n = x0.shape[0]
    cov = torch.from_numpy(np.asarray(load_ground_targets(a.data, obj_all, den.grid, meta["camera"]["width"], 1)[0, :n, :K], dtype=np.float32))
    cov = cov.reshape(n, -1)
    out = {}
    for name, o in (("right_name", ob), ("wrong_name", other_object(ob, len(meta["vocabulary"])))):
        logits = []
        for b in range(0, n, 32):
            ctx = x0[b : b + 32, :K]  # the context alone, as in training
            hid, _ = den.tokens(ctx, torch.zeros(ctx.shape[0], K), ix[b : b + 32, :K], o[b : b + 32], blocks=int(s.get("ground_layer", 2)) + 1)
            logits.append(head(hid).squeeze(-1))
        recall, empty = ground_rates(torch.cat(logits), cov)
        out[name] = {"recall": recall, "empty_kept_empty": empty}
    out["positive_tokens"] = int((cov > 0.5).sum())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", default=os.path.expanduser("~/v4s_runs/v4s-small"))
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--fresh", action="store_true", help="WORK's latents come from worlds no run trained on (e.g. seeds 40000+): probe the first --n of them")
    p.add_argument("--data", default=os.path.expanduser("~/v4s_data/train"), help="the dataset the latents were encoded from (grounding head only)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.work, "data_meta.json")))
    K, N = meta["k"], meta["n"]
    lat = np.load(os.path.join(a.work, "latents.npy"), mmap_mode="r")
    idx = np.load(os.path.join(a.work, "lat_indices.npy"))
    obj = np.load(os.path.join(a.work, "lat_object.npy"))
    # the held-out share of an encoded training set (train.py dit holds out its first 1/20), or, with
    # --fresh, any of the clips (encoded from worlds that no run trained on)
    n = min(a.n, idx.shape[0] if a.fresh else idx.shape[0] // 20)
    s = torch.load(os.path.join(a.work, "dit.pt"), map_location="cpu")
    use_arch(s.get("arch"))
    den = make_denoiser(len(meta["vocabulary"]))
    # the weights export would ship: the moving average when training kept one
    den.load_state_dict(s["ema"] if "ema" in s else s["den"])
    den.eval()
    g = torch.Generator().manual_seed(0)
    x0 = torch.from_numpy(np.asarray(lat[0, :n], dtype=np.float32))
    ix = torch.from_numpy(relative_indices(idx[:n], K).astype(np.float32))
    ob = torch.from_numpy(obj[:n].astype(np.int64))
    other = torch.roll(x0[:, :K], shifts=n // 2, dims=0)  # a clip half the set away: another world
    res = {}
    with torch.no_grad():
        for t in (0.3, 0.6, 0.9):
            eps = torch.randn(x0.shape, generator=g)
            xt = (1 - t) * x0 + t * eps
            target = (eps - x0)[:, K:]
            out = {}
            for name in ("true", "other_world", "noise", "no_object", "wrong_object"):
                inp = xt.clone()
                tf = torch.zeros(n, K + N)
                tf[:, K:] = t
                o = ob.clone()
                if name in ("true", "no_object", "wrong_object"):
                    inp[:, :K] = x0[:, :K]
                elif name == "other_world":
                    inp[:, :K] = other
                else:
                    inp[:, :K] = torch.randn(inp[:, :K].shape, generator=g)
                    tf[:, :K] = 1.0
                    o = torch.zeros_like(o)
                if name == "no_object":
                    o = torch.zeros_like(o)
                elif name == "wrong_object":
                    o = other_object(o, len(meta["vocabulary"]))
                losses = []
                for b in range(0, n, 32):
                    v = den(inp[b : b + 32], tf[b : b + 32], ix[b : b + 32], o[b : b + 32])
                    losses.append(((v[:, K:] - target[b : b + 32]) ** 2).mean(dim=(1, 2, 3, 4)))
                out[name] = float(torch.cat(losses).mean())
            res[f"t={t}"] = out
        if "ground" in s:
            res["grounding"] = grounding(a, s, x0, ix, ob, obj, K, meta)
    res["clips"] = n
    res["denoiser_steps"] = int(s["step"])
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
