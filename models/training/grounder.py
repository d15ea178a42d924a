#!/usr/bin/python3
"""Train, measure and export the grounder: which tokens of a keyframe show a named object.

A linear head on the FROZEN shipped denoiser's tokens after block --layer, from a pass over ONE
clean keyframe (t = 0, stream index 0) with the name as the instruction. Each keyframe is grounded
on its own, so the node grounds a keyframe once per name and caches it. Run it again whenever the
denoiser changes (one command, minutes on 2 CPU cores):

  node dist/src/cli/main.js dataset --grounding --seeds 70000-70399 --out /tmp/gr/train
  node dist/src/cli/main.js dataset --grounding --seeds 71000-71099 --out /tmp/gr/val
  /usr/bin/python3 models/training/grounder.py --train /tmp/gr/train --val /tmp/gr/val --write

Every keyframe is paired with EVERY category: the named object's token coverage is the target, and
a category absent from the view (or from the world) has all-zero targets, so the head learns to stay
silent for names the memory never saw. --write exports grounder.onnx (latents [B, C, 8, 8] + object
[B] -> probability [B, G·G]), golden vectors for the Node runtime test, and the manifest entry with
the held-out numbers. Without --write it only prints them.
"""
import argparse
import glob
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v4s_model import Denoiser, FrameEncoder  # noqa: E402
from train import DEFAULT_MODEL_DIR, load_onnx_initializers, log  # noqa: E402
from export import _b64, _export, _sha256  # noqa: E402

# A keyframe "shows" an object with at least this many pixels at 64×64 (eval's IF_MIN_PIXELS);
# with none it does not; in between it is not counted in the per-keyframe numbers.
SHOWS_MIN_PIXELS = 20
THRESHOLD = 0.5


def make_head(kind, dim, hidden):
    """The head on the frozen tokens: 'linear' (one layer) or 'mlp' (dim -> hidden -> 1, GELU)."""
    if kind == "linear":
        return torch.nn.Linear(dim, 1)
    return torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1))


class Grounder(torch.nn.Module):
    """latents [B, C, h, w] (one keyframe each), object [B] int64 -> probability [B, G·G] that each
    token shows the named object."""

    def __init__(self, den, layer, head):
        super().__init__()
        self.den, self.layer, self.head = den, layer, head

    def forward(self, latents, object):  # noqa: A002 - ONNX input name
        B = latents.shape[0]
        zeros = torch.zeros(B, 1, dtype=latents.dtype)
        hid, _ = self.den.tokens(latents.unsqueeze(1), zeros, zeros, object, blocks=self.layer + 1)
        return torch.sigmoid(self.head(hid).squeeze(-1))


def load_frozen(model_dir):
    m = json.load(open(os.path.join(model_dir, "manifest.json")))
    arch = m["training"]["architecture"]
    lc = m["latent"]["channels"]
    enc = FrameEncoder(lc, arch["ae_width"])
    if load_onnx_initializers(enc, os.path.join(model_dir, "encoder.onnx")) == 0:
        raise SystemExit(f"no encoder weights in {model_dir}")
    den = Denoiser(lc, m["latent"]["height"], arch["patch"], arch["dim"], arch["depth"], arch["heads"], len(m["vocabulary"]))
    n = load_onnx_initializers(den, os.path.join(model_dir, "denoiser.onnx"), prefix="den.")
    if n < len(den.state_dict()) - 4:  # buffers (freqs, positions) are rebuilt, not loaded
        raise SystemExit(f"only {n} of {len(den.state_dict())} denoiser tensors found in {model_dir}/denoiser.onnx")
    for p in list(enc.parameters()) + list(den.parameters()):
        p.requires_grad_(False)
    return m, enc.eval(), den.eval()


def load_dir(d):
    shards = sorted(s for s in glob.glob(os.path.join(d, "shard_*")) if os.path.exists(os.path.join(s, "world_seed.npy")))
    if not shards:
        raise SystemExit(f"no finished grounding shard in {d!r} (write one with `dataset --grounding`)")
    cat = lambda n: np.concatenate([np.load(os.path.join(s, n + ".npy")) for s in shards])  # noqa: E731
    return {n: cat(n) for n in ("frames", "cover", "pixels", "present", "world_seed")}


@torch.no_grad()
def features(enc, den, layer, frames, vocab, chunk=256):
    """Tokens after block `layer` for every (keyframe, category 1..V-1): float16 [n, V-1, G·G, D]."""
    n = frames.shape[0]
    V = vocab
    out = None
    t0 = time.time()
    for c in range(0, n, chunk):
        x = torch.from_numpy(frames[c : c + chunk]).float().div(255).movedim(-1, -3)
        z = enc(x)  # [b, C, 8, 8]
        b = z.shape[0]
        zz = z.unsqueeze(1).expand(b, V - 1, *z.shape[1:]).reshape(b * (V - 1), 1, *z.shape[1:])
        obj = torch.arange(1, V).repeat(b)
        zeros = torch.zeros(b * (V - 1), 1)
        hid, _ = den.tokens(zz, zeros, zeros, obj, blocks=layer + 1)
        hid = hid.reshape(b, V - 1, hid.shape[1], hid.shape[2]).half()
        if out is None:
            out = torch.empty(n, V - 1, hid.shape[2], hid.shape[3], dtype=torch.float16)
        out[c : c + b] = hid
    log(f"tokens of {n} keyframes x {V - 1} names in {time.time() - t0:.0f} s")
    return out


def measure(prob, data, vocab):
    """Held-out numbers of probabilities [n, V-1, G·G] against the data's coverage and pixels."""
    cover = torch.from_numpy(data["cover"][:, 1:]).float()
    pix = data["pixels"][:, 1:]
    present = data["present"][:, 1:]
    seeds = data["world_seed"]
    fire = prob >= THRESHOLD
    pos, neg = cover > 0.5, cover == 0
    r = {"token_recall": float(fire[pos].float().mean()), "token_empty_kept_empty": float((~fire[neg]).float().mean())}
    kf_fire = fire.any(-1).numpy()  # [n, V-1]
    shows, empty = pix >= SHOWS_MIN_PIXELS, pix == 0
    tp = int((kf_fire & shows).sum())
    r["keyframe_recall"] = tp / max(1, int(shows.sum()))
    r["keyframe_precision"] = tp / max(1, int((kf_fire & (shows | empty)).sum()))
    r["keyframe_false_fire_when_not_in_view"] = float(kf_fire[empty].mean())
    r["keyframe_false_fire_when_absent_from_world"] = float(kf_fire[present == 0].mean())
    # per world and name: does the memory hold it (some keyframe fires)?
    seen_w, absent_w = [], []
    for s in np.unique(seeds):
        rows = seeds == s
        for v in range(vocab - 1):
            n_fire = int(kf_fire[rows, v].sum())
            if shows[rows, v].any():
                seen_w.append(n_fire)
            elif present[rows, v].max() == 0:
                absent_w.append(n_fire)
    seen_w, absent_w = np.array(seen_w), np.array(absent_w)
    for m in (1, 2, 3):
        r[f"world_seen_found_min{m}"] = float((seen_w >= m).mean()) if len(seen_w) else float("nan")
        r[f"world_absent_fired_min{m}"] = float((absent_w >= m).mean()) if len(absent_w) else float("nan")
    r["worlds"] = int(len(np.unique(seeds)))
    r["keyframes"] = int(len(seeds))
    r["world_name_pairs_seen"] = int(len(seen_w))
    r["world_name_pairs_absent"] = int(len(absent_w))
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL_DIR)
    p.add_argument("--layer", type=int, default=-1, help="block (0-based) whose tokens the head reads; default the manifest's training grounding layer, else 2")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--pos-weight", type=float, default=2.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--head", choices=["linear", "mlp"], default="mlp")
    p.add_argument("--hidden", type=int, default=128, help="--head mlp: hidden width")
    p.add_argument("--cache", default="", help="directory to keep the frozen tokens in (float16 .npy) between runs on the same data, layer and denoiser")
    p.add_argument("--write", action="store_true", help="export grounder.onnx, its golden vectors and the manifest entry into --model")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    m, enc, den = load_frozen(a.model)
    vocab = len(m["vocabulary"])
    layer = a.layer if a.layer >= 0 else int(m["training"].get("grounding_loss", {}).get("layer", 2))
    tr, va = load_dir(a.train), load_dir(a.val)
    overlap = set(np.unique(tr["world_seed"]).tolist()) & set(np.unique(va["world_seed"]).tolist())
    if overlap:
        raise SystemExit(f"--train and --val share worlds {sorted(overlap)[:5]}…: held-out numbers need unseen worlds")
    log(f"train {len(tr['world_seed'])} keyframes of {len(np.unique(tr['world_seed']))} worlds; val {len(va['world_seed'])} of {len(np.unique(va['world_seed']))}; layer {layer}")
    def cached(tag, frames):
        if not a.cache:
            return features(enc, den, layer, frames, vocab)
        os.makedirs(a.cache, exist_ok=True)
        f = os.path.join(a.cache, f"{tag}_{m['files']['denoiser']['sha256'][:12]}_L{layer}_{frames.shape[0]}.npy")
        if os.path.exists(f):
            log(f"tokens from {f}")
            return torch.from_numpy(np.load(f))
        t = features(enc, den, layer, frames, vocab)
        np.save(f, t.numpy())
        return t

    ftr = cached("train", tr["frames"])
    fva = cached("val", va["frames"])
    ytr = torch.from_numpy(tr["cover"][:, 1:]).float()  # [n, V-1, G·G]
    D = ftr.shape[-1]
    head = make_head(a.head, D, a.hidden)
    opt = torch.optim.AdamW(head.parameters(), lr=a.lr, weight_decay=1e-4)
    n = ftr.shape[0]
    steps = a.epochs * ((n + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps)
    pw = torch.tensor(a.pos_weight)
    t0 = time.time()
    for ep in range(a.epochs):
        perm = torch.randperm(n)
        tot = 0.0
        for c in range(0, n, a.batch):
            ids = perm[c : c + a.batch]
            logit = head(ftr[ids].float()).squeeze(-1)
            loss = F.binary_cross_entropy_with_logits(logit, ytr[ids], pos_weight=pw)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(ids)
        log(f"epoch {ep + 1}/{a.epochs}: loss {tot / n:.4f} ({time.time() - t0:.0f} s)")
    with torch.no_grad():
        pva = torch.sigmoid(head(fva.float()).squeeze(-1))
        ptr = torch.sigmoid(head(ftr[:4000].float()).squeeze(-1))
    # the held-out worlds in two halves: choose a head or threshold on the first, report the second
    seeds = np.unique(va["world_seed"])
    first = np.isin(va["world_seed"], seeds[: len(seeds) // 2])
    half = lambda mask: {k: v[mask] for k, v in va.items()}  # noqa: E731
    res = {
        "held_out": measure(pva, va, vocab),
        "held_out_first_half": measure(pva[torch.from_numpy(first)], half(first), vocab),
        "held_out_second_half": measure(pva[torch.from_numpy(~first)], half(~first), vocab),
        "train_subset": measure(ptr, {k: v[:4000] for k, v in tr.items()}, vocab),
    }
    print(json.dumps(res, indent=2))
    if not a.write:
        return
    g = Grounder(den, layer, head).eval()
    path = os.path.join(a.model, "grounder.onnx")
    C, h, w = m["latent"]["channels"], m["latent"]["height"], m["latent"]["width"]
    gen = torch.Generator().manual_seed(7)
    lat = torch.randn(3, C, h, w, generator=gen)
    obj = torch.tensor([1, 4, 8], dtype=torch.int64)
    _export(g, (lat, obj), path, ["latents", "object"], ["probability"], {"latents": {0: "batch"}, "object": {0: "batch"}, "probability": {0: "batch"}})
    with torch.no_grad():
        y = g(lat, obj)
        # the same pass as the features the head was trained on
        assert torch.allclose(y[0], torch.sigmoid(head(den.tokens(lat[:1].unsqueeze(1), torch.zeros(1, 1), torch.zeros(1, 1), obj[:1], blocks=layer + 1)[0]).squeeze(-1))[0], atol=1e-6)
    golden = {"inputs": {"latents": {"shape": list(lat.shape), "dtype": "float32", "data": _b64(lat.numpy())}, "object": {"shape": [3], "dtype": "int64", "data": obj.tolist()}},
              "outputs": {"probability": {"shape": list(y.shape), "data": _b64(y.numpy())}}}
    gpath = os.path.join(a.model, "grounder_golden.json")
    json.dump(golden, open(gpath, "w"))
    mpath = os.path.join(a.model, "manifest.json")
    man = json.load(open(mpath), object_pairs_hook=dict)
    G2 = (h // m["training"]["architecture"]["patch"]) ** 2
    man["files"]["grounder"] = {
        "path": "grounder.onnx",
        "inputs": [{"name": "latents", "type": "float32", "shape": ["batch", C, h, w]}, {"name": "object", "type": "int64", "shape": ["batch"]}],
        "outputs": [{"name": "probability", "type": "float32", "shape": ["batch", G2]}],
        "sha256": _sha256(path),
    }
    man["grounding"] = {
        "note": f"grounder.onnx: a {'linear' if a.head == 'linear' else f'two-layer (hidden {a.hidden}, GELU)'} head on the frozen denoiser's tokens after block `layer`, one clean keyframe per pass (t = 0, index 0), the name as the instruction; probability per token (row-major y, x over a grid of token_grid x token_grid cells of the frame). A keyframe shows the object when any token reaches `threshold`.",
        "layer": layer,
        "token_grid": int(round(G2 ** 0.5)),
        "threshold": THRESHOLD,
        "denoiser_sha256": m["files"]["denoiser"]["sha256"],
        "golden": "grounder_golden.json",
        "golden_sha256": _sha256(gpath),
        "trained_on": {"seeds": [int(tr["world_seed"].min()), int(tr["world_seed"].max())], "keyframes": int(len(tr["world_seed"])), "epochs": a.epochs, "pos_weight": a.pos_weight, "head": a.head, "hidden": a.hidden if a.head == "mlp" else 0},
        # the head was chosen on the first half of the held-out worlds; the second half reports it
        "held_out": dict(res["held_out"], seeds=[int(va["world_seed"].min()), int(va["world_seed"].max())]),
        "held_out_report_half": dict(res["held_out_second_half"], seeds=[int(seeds[len(seeds) // 2]), int(seeds[-1])]),
        "command": "/usr/bin/python3 models/training/grounder.py --train DIR --val DIR --write (data: dataset --grounding)",
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    json.dump(man, open(mpath, "w"), indent=2)
    open(mpath, "a").write("\n")
    log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB), {gpath}, manifest files.grounder + grounding")


if __name__ == "__main__":
    main()
