#!/usr/bin/python3
"""Train, resume and export the default Video4Spatial model (v4s-small).

Runs with Debian's python3-torch 1.13 on CPU (`/usr/bin/python3`), and unchanged with a newer torch
on a CUDA machine (`--device cuda`). Stages (each resumable; checkpoints live in --work, never in git):

  ae      train the frame autoencoder on dataset frames          -> WORK/ae.pt
  encode  encode every clip (and its mirror image) to latents     -> WORK/latents.npy (+ meta)
  dec     fine-tune the decoder alone (encoder frozen, same latents) -> WORK/ae.pt
  dit     train the denoiser (rectified flow, joint CFG dropout)  -> WORK/dit.pt, WORK/dit_log.csv
  export  write encoder/decoder/denoiser ONNX + manifest.json      -> models/v4s-small/

When WORK has no checkpoint, `ae`/`dit` start from the weights of the shipped ONNX files (loaded by
initializer name, --init-from), so each working day continues from the last shipped model.
"""
import argparse
import csv
import glob
import json
import math
import os
import sys
import time

# before torch loads OpenMP: idle OpenMP threads sleep instead of spinning (measured here: a train step
# of the denoiser at batch 16 on 2 cores, 1.07 s spinning vs 0.64 s passive)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v4s_model import Denoiser, FrameDecoder, FrameEncoder, count_params  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "v4s-small"))
CFG = dict(latent_ch=8, ae_width=48, dim=128, depth=6, heads=4, patch=2)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
def load_shards(data_dir):
    shards = sorted(glob.glob(os.path.join(data_dir, "shard_*")))
    if not shards:
        raise SystemExit(f"no shard_* directories in {data_dir!r}")
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    out = []
    for s in shards:
        d = {n: np.load(os.path.join(s, n + ".npy"), mmap_mode="r") for n in ("frames", "indices", "object", "boxes")}
        out.append(d)
    return meta, out


def to_float(frames_u8):
    """uint8 [..., H, W, 3] -> float [..., 3, H, W] in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames_u8)).float() / 255.0
    return x.movedim(-1, -3)


# ----------------------------------------------------------------------------------------------
# resume from shipped ONNX
# ----------------------------------------------------------------------------------------------
def shipped_steps(model_dir, key):
    """Cumulative training steps recorded in the shipped manifest (0 when there is none)."""
    try:
        return int(json.load(open(os.path.join(model_dir, "manifest.json")))["training"][key])
    except (OSError, KeyError, ValueError):
        return 0


def load_onnx_initializers(module, path, prefix=""):
    """Copies ONNX initializers named like the module's state_dict keys into the module."""
    if not os.path.exists(path):
        return 0
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    sd = module.state_dict()
    n = 0
    for init in model.graph.initializer:
        name = init.name[len(prefix):] if init.name.startswith(prefix) else init.name
        if name in sd and tuple(sd[name].shape) == tuple(init.dims):
            sd[name].copy_(torch.from_numpy(numpy_helper.to_array(init).copy()))
            n += 1
    module.load_state_dict(sd)
    return n


# ----------------------------------------------------------------------------------------------
# stage: autoencoder
# ----------------------------------------------------------------------------------------------
def sample_frames(shards, rng, batch, dev):
    """A batch of single frames from random clips of one random shard, each mirrored with p = 0.5
    as a batch: float [B, 3, H, W] in [0, 1]."""
    sh = shards[rng.integers(len(shards))]
    n, Fr = sh["frames"].shape[:2]
    ci = np.sort(rng.choice(n, size=min(batch, n), replace=False))
    fi = rng.integers(Fr, size=len(ci))
    x = to_float(np.stack([sh["frames"][c, f] for c, f in zip(ci, fi)])).to(dev)
    return torch.flip(x, dims=[-1]) if rng.random() < 0.5 else x


def scheduled_lr(a, n, warmup, t_start, t_end):
    """--lr with a linear warm-up over `warmup` steps (n = steps done before this one) and, with
    --anneal, a cosine decay to 0 at the end of this run's time budget [t_start, t_end]."""
    lr = a.lr * min(1.0, (n + 1) / warmup)
    if a.anneal:
        lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, (time.time() - t_start) / (t_end - t_start))))
    return lr


def red_mask(x):
    """x [B, 3, H, W] in [0, 1] -> 1 where the pixel is the box red."""
    return ((x[:, 0] > 0.9) & (x[:, 1] < 0.1) & (x[:, 2] < 0.1)).float().unsqueeze(1)


def stage_ae(a):
    meta, shards = load_shards(a.data)
    dev = torch.device(a.device)
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    ck = os.path.join(a.work, "ae.pt")
    step = 0
    if os.path.exists(ck):
        s = torch.load(ck, map_location="cpu")
        enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"]), opt.load_state_dict(s["opt"])
        step = s["step"]
        log(f"resumed AE from {ck} at step {step}")
    else:
        n = load_onnx_initializers(enc, os.path.join(a.init_from, "encoder.onnx")) + load_onnx_initializers(dec, os.path.join(a.init_from, "decoder.onnx"))
        if n:
            step = shipped_steps(a.init_from, "ae_steps")
        log(f"AE initialised from shipped ONNX ({n} tensors, step {step})" if n else "AE from scratch")
    log(f"AE params: enc {count_params(enc)} dec {count_params(dec)}")
    rng = np.random.default_rng(step)
    t_end = time.time() + a.minutes * 60
    losses = []
    while time.time() < t_end and step < a.max_steps:
        x = sample_frames(shards, rng, a.batch, dev)
        z = enc.net(x * 2 - 1)
        y = dec.net(z)
        target = x * 2 - 1
        w = 1.0 + 20.0 * red_mask(x)
        loss = (w * (y - target).abs()).mean() + 1e-4 * z.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 100 == 0:
            log(f"ae step {step} loss {np.mean(losses[-100:]):.4f}")
        if step % 1000 == 0:
            torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    if a.minutes <= 0:
        # keep the (shipped or checkpointed) latent statistics: the denoiser was trained on them
        torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
        log(f"AE kept as is at step {step}")
        return
    # latent statistics for normalisation
    with torch.no_grad():
        sh = shards[0]
        zs = []
        for c in range(0, min(256, sh["frames"].shape[0]), 32):
            x = to_float(sh["frames"][c : c + 32].reshape(-1, *sh["frames"].shape[2:])).to(dev)
            zs.append(enc.net(x * 2 - 1))
        z = torch.cat(zs)
        mean = z.mean(dim=(0, 2, 3), keepdim=True)
        std = z.std(dim=(0, 2, 3), keepdim=True) + 1e-6
        for m in (enc, dec):
            m.lat_mean.copy_(mean)
            m.lat_std.copy_(std)
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": opt.state_dict(), "step": step}, ck)
    log(f"AE done at step {step}; latent std {std.flatten().tolist()}")


# ----------------------------------------------------------------------------------------------
# stage: encode
# ----------------------------------------------------------------------------------------------
def load_ae(work, dev):
    s = torch.load(os.path.join(work, "ae.pt"), map_location="cpu")
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"])
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"])
    enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"])
    return enc.to(dev).eval(), dec.to(dev).eval()


def stage_dec(a):
    """Fine-tunes the decoder alone, the encoder frozen: the latent space the denoiser was trained
    in stays the same, so a sharper decoder drops in under an existing denoiser. Latents get a
    little Gaussian noise (up to --dec-noise of the latent std) so that the decoder also renders
    the slightly off-manifold latents the sampler produces."""
    meta, shards = load_shards(a.data)
    dev = torch.device(a.device)
    ck = os.path.join(a.work, "ae.pt")
    if not os.path.exists(ck):
        raise SystemExit(f"dec: needs a trained autoencoder at {ck} (run the ae stage, or copy one there)")
    s = torch.load(ck, map_location="cpu")
    enc = FrameEncoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    dec = FrameDecoder(CFG["latent_ch"], CFG["ae_width"]).to(dev)
    enc.load_state_dict(s["enc"]), dec.load_state_dict(s["dec"])
    enc.eval()
    for q in enc.parameters():
        q.requires_grad_(False)
    opt = torch.optim.AdamW(dec.parameters(), lr=a.lr, weight_decay=0.0)
    if "dec_opt" in s:
        opt.load_state_dict(s["dec_opt"])
    step = int(s["step"])
    dec_steps = int(s.get("dec_steps", 0))
    log(f"decoder fine-tuning from {ck}: AE step {step}, {dec_steps} decoder-only steps so far; decoder params {count_params(dec)}")
    rng = np.random.default_rng(7000 + dec_steps)
    std = enc.lat_std.to(dev)
    t_start = time.time()
    t_end = t_start + a.minutes * 60
    losses = []

    def save():
        torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "opt": s.get("opt"), "dec_opt": opt.state_dict(), "step": step, "dec_steps": dec_steps}, ck)

    while time.time() < t_end and step < a.max_steps:
        x = sample_frames(shards, rng, a.batch, dev)
        with torch.no_grad():
            z = enc.net(x * 2 - 1)
            sigma = torch.rand(z.shape[0], 1, 1, 1, device=dev) * a.dec_noise
            z = z + sigma * std * torch.randn_like(z)
        y = dec.net(z)
        target = x * 2 - 1
        w = 1.0 + 20.0 * red_mask(x)
        loss = (w * (y - target).abs()).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lr = scheduled_lr(a, dec_steps, 200, t_start, t_end)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        losses.append(loss.item())
        step += 1
        dec_steps += 1
        if dec_steps % 100 == 0:
            log(f"dec step {dec_steps} loss {np.mean(losses[-100:]):.4f} lr {lr:.2e}")
        if dec_steps % 500 == 0:
            save()
    save()
    log(f"decoder stopped after {dec_steps} decoder-only steps (AE step {step})")


def stage_encode(a):
    meta, shards = load_shards(a.data)
    dev = torch.device(a.device)
    enc, _ = load_ae(a.work, dev)
    total = sum(s["frames"].shape[0] for s in shards)
    if a.max_clips and total > a.max_clips:
        keep, acc = [], 0
        for sh in shards:
            if acc >= a.max_clips:
                break
            keep.append(sh)
            acc += sh["frames"].shape[0]
        shards, total = keep, acc
    flips = (0,) if a.no_flip else (0, 1)
    Fr = shards[0]["frames"].shape[1]
    C = CFG["latent_ch"]
    lat = np.lib.format.open_memmap(os.path.join(a.work, "latents.npy"), mode="w+", dtype=np.float16, shape=(len(flips), total, Fr, C, 8, 8))
    idx = np.zeros((total, Fr), np.int32)
    obj = np.zeros((total,), np.int32)
    o = 0
    t0 = time.time()
    with torch.no_grad():
        for sh in shards:
            n = sh["frames"].shape[0]
            idx[o : o + n] = sh["indices"]
            obj[o : o + n] = sh["object"]
            for c in range(0, n, 16):
                fr = sh["frames"][c : c + 16]
                b = fr.shape[0]
                x = to_float(fr.reshape(-1, *fr.shape[2:])).to(dev)
                for flip in flips:
                    xx = torch.flip(x, dims=[-1]) if flip else x
                    lat[flip, o + c : o + c + b] = enc(xx).reshape(b, Fr, C, 8, 8).cpu().numpy().astype(np.float16)
            o += n
            log(f"encoded {o}/{total} clips ({time.time() - t0:.0f} s)")
    lat.flush()
    np.save(os.path.join(a.work, "lat_indices.npy"), idx)
    np.save(os.path.join(a.work, "lat_object.npy"), obj)
    json.dump(meta, open(os.path.join(a.work, "data_meta.json"), "w"))


# ----------------------------------------------------------------------------------------------
# stage: denoiser
# ----------------------------------------------------------------------------------------------
def box_token_targets(boxes, grid, size, flip):
    """Share of each token's pixel cell that the target's box covers, scaled so that a quarter of a
    cell counts as fully positive (small objects fill little of a 16×16 px cell).

    boxes [..., 4] as (x0, y0, x1, y1) inclusive pixels, -1 where the target is not in view;
    flip: the mirrored clip (x -> size-1-x). Returns float32 [..., grid·grid], row-major (y, x)
    like the denoiser's tokens."""
    b = boxes.astype(np.float32)
    x0, y0, x1, y1 = b[..., 0], b[..., 1], b[..., 2] + 1.0, b[..., 3] + 1.0
    if flip:
        x0, x1 = size - x1, size - x0
    cell = size / grid
    edges = np.arange(grid, dtype=np.float32) * cell
    ox = np.clip(np.minimum(x1[..., None], edges + cell) - np.maximum(x0[..., None], edges), 0, None)  # [..., G]
    oy = np.clip(np.minimum(y1[..., None], edges + cell) - np.maximum(y0[..., None], edges), 0, None)
    cov = (oy[..., :, None] * ox[..., None, :]) / (cell * cell)  # [..., G, G]
    cov[boxes[..., 0] < 0] = 0.0
    return np.clip(cov * 4.0, 0.0, 1.0).reshape(*boxes.shape[:-1], grid * grid)


def load_ground_targets(data_dir, obj_all, grid, size, flips):
    """Per-token box coverage [flips, clips, frames, grid·grid] (float16) for the grounding loss, from
    the dataset the latents were encoded from (same shard order; checked against the objects)."""
    _, shards = load_shards(data_dir)
    boxes = np.concatenate([np.asarray(sh["boxes"]) for sh in shards])
    objs = np.concatenate([np.asarray(sh["object"]) for sh in shards])
    if boxes.shape[0] < obj_all.shape[0] or not np.array_equal(objs[: obj_all.shape[0]], obj_all):
        raise SystemExit(f"--ground: the clips in {data_dir!r} do not match the encoded latents (encode from the same --data)")
    boxes = boxes[: obj_all.shape[0]]
    return np.stack([box_token_targets(boxes, grid, size, f).astype(np.float16) for f in range(flips)])


def ground_rates(logit, tgt):
    """Recall on the tokens the target covers (> 0.5) and the share of empty tokens left empty,
    for grounding-head logits and their box-coverage targets of the same shape."""
    pos, neg = tgt > 0.5, tgt == 0
    recall = float((logit[pos] > 0).float().mean()) if pos.any() else float("nan")
    return recall, float((logit[neg] < 0).float().mean())


def other_object(obj, vocab_size):
    """The next category's vocabulary index (1..vocab_size-1, never the null class 0)."""
    return obj % (vocab_size - 1) + 1


def make_denoiser(vocab):
    return Denoiser(CFG["latent_ch"], 8, CFG["patch"], CFG["dim"], CFG["depth"], CFG["heads"], vocab)


def relative_indices(idx, k):
    """Original stream indices relative to the newest context frame (index k-1)."""
    return idx - idx[:, k - 1 : k]


def stage_dit(a):
    dev = torch.device(a.device)
    meta = json.load(open(os.path.join(a.work, "data_meta.json")))
    K, N = meta["k"], meta["n"]
    vocab = len(meta["vocabulary"])
    lat = np.load(os.path.join(a.work, "latents.npy"), mmap_mode="r")
    if a.preload:
        lat = np.asarray(lat)
    idx_all = np.load(os.path.join(a.work, "lat_indices.npy"))
    obj_all = np.load(os.path.join(a.work, "lat_object.npy"))
    total = idx_all.shape[0]
    n_val = min(256, total // 20)
    train_ids = np.arange(n_val, total)
    den = make_denoiser(vocab).to(dev)
    # grounding head (training only, never exported): from the tokens after block --ground-layer,
    # predict which context tokens show the NAMED object (the dataset's box of the target)
    ground = torch.nn.Linear(CFG["dim"], 1).to(dev)
    cov_all = None
    if a.ground > 0:
        cov_all = load_ground_targets(a.data, obj_all, den.grid, meta["camera"]["width"], lat.shape[0])
        log(f"grounding loss: weight {a.ground}, tokens after block {a.ground_layer}; {float((cov_all[0, :, :K] > 0).mean()):.3f} of context tokens positive")
    opt = torch.optim.AdamW(list(den.parameters()) + list(ground.parameters()), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ck = os.path.join(a.work, "dit.pt")
    step = 0
    ema = None
    if os.path.exists(ck):
        s = torch.load(ck, map_location="cpu")
        den.load_state_dict(s["den"])
        if "ground" in s:
            ground.load_state_dict(s["ground"])
            opt.load_state_dict(s["opt"])
        else:  # a checkpoint from before the grounding head: its optimiser state lacks the head
            st = opt.state_dict()
            st["state"] = s["opt"]["state"]
            opt.load_state_dict(st)
        step = s["step"]
        if a.ema > 0 and "ema" in s:
            ema = {k: v.to(dev) for k, v in s["ema"].items()}
        log(f"resumed denoiser from {ck} at step {step}{' (with its EMA)' if ema is not None else ''}")
    else:
        n = load_onnx_initializers(den, os.path.join(a.init_from, "denoiser.onnx"), prefix="den.")
        if n:
            step = shipped_steps(a.init_from, "denoiser_steps")
        log(f"denoiser initialised from shipped ONNX ({n} tensors, step {step})" if n else "denoiser from scratch")
    log(f"denoiser params {count_params(den)}; clips {total} (val {n_val}); K={K} N={N}")
    rng = np.random.default_rng(1000 + step)
    logf = open(os.path.join(a.work, "dit_log.csv"), "a", newline="")
    logw = csv.writer(logf)
    frame_w = torch.ones(N)
    frame_w[-2:] = 2.0  # the last frames (the goal view) matter most
    frame_w = (frame_w / frame_w.mean()).to(dev)
    if a.ema > 0 and ema is None:
        ema = {k: v.detach().clone() for k, v in den.state_dict().items()}
    # (average, live tensor) pairs, made once: state_dict tensors share the parameters' storage
    ema_pairs = [(ema[k], v) for k, v in den.state_dict().items()] if ema is not None else []
    t_start = time.time()
    t_end = t_start + a.minutes * 60
    losses = []
    g_stats = []  # (grounding BCE, recall on positive tokens, specificity on empty ones)
    pos_weight = torch.tensor(4.0, device=dev)  # ~8 % of context tokens are positive

    def save():
        st = {"den": den.state_dict(), "opt": opt.state_dict(), "step": step}
        if cov_all is not None:
            st.update(ground=ground.state_dict(), ground_layer=a.ground_layer, ground_weight=a.ground)
        if ema is not None:
            st["ema"] = ema
        torch.save(st, ck)

    t_last = time.time()
    while time.time() < t_end and step < a.max_steps:
        ids = np.sort(rng.choice(train_ids, size=a.batch, replace=False))
        flip = rng.integers(lat.shape[0])
        x0 = torch.from_numpy(np.asarray(lat[flip, ids], dtype=np.float32)).to(dev)  # [B, F, C, 8, 8]
        idx = torch.from_numpy(relative_indices(idx_all[ids], K).astype(np.float32)).to(dev)
        obj = torch.from_numpy(obj_all[ids].astype(np.int64)).to(dev)
        B = x0.shape[0]
        # rectified flow: x_t = (1 - t) x0 + t eps, v = eps - x0; t ~ logit-normal
        t = torch.sigmoid(torch.randn(B, device=dev) * 1.0)
        eps = torch.randn_like(x0)
        tt = t.view(B, 1, 1, 1, 1)
        xt = (1 - tt) * x0 + tt * eps
        inp = xt.clone()
        inp[:, :K] = x0[:, :K]
        tf = torch.zeros(B, K + N, device=dev)
        tf[:, K:] = t.view(B, 1)
        # joint CFG dropout: drop the instruction AND replace the context by pure noise (t = 1)
        drop = torch.rand(B, device=dev) < a.cfg_drop
        if drop.any():
            inp[drop, :K] = torch.randn_like(inp[drop, :K])
            tf[drop, :K] = 1.0
            obj = torch.where(drop, torch.zeros_like(obj), obj)
        v = den(inp, tf, idx, obj)
        err = (v[:, K:] - (eps - x0)[:, K:]).pow(2).mean(dim=(2, 3, 4))  # [B, N]
        flow = (err * frame_w).mean()
        loss = flow
        sel = (~drop).nonzero().squeeze(1)[: a.ground_batch] if cov_all is not None else []  # dropped samples have no object
        if len(sel) > 0:
            # a pass over the CONTEXT ONLY, up to the head's block: with target frames in the sequence
            # the head learns to find what the (partly denoised) targets box, not what the name says
            G = len(sel)
            hid, _ = den.tokens(x0[sel, :K], torch.zeros(G, K, device=dev), idx[sel, :K], obj[sel], blocks=a.ground_layer + 1)
            logit = ground(hid).squeeze(-1)  # [G, K·n]
            tgt = torch.from_numpy(np.asarray(cov_all[flip, ids[sel.cpu().numpy()], :K], dtype=np.float32).reshape(G, -1)).to(dev)
            g_loss = F.binary_cross_entropy_with_logits(logit, tgt, pos_weight=pos_weight)
            loss = flow + a.ground * g_loss
            with torch.no_grad():
                g_stats.append((g_loss.item(), *ground_rates(logit, tgt)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(den.parameters(), 1.0)
        lr = scheduled_lr(a, step, 500, t_start, t_end)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        with torch.no_grad():
            for e, v in ema_pairs:
                if v.dtype.is_floating_point:
                    e.mul_(a.ema).add_(v, alpha=1 - a.ema)
                else:
                    e.copy_(v)
        losses.append(flow.item())
        step += 1
        if step % 50 == 0:
            dt = (time.time() - t_last) / 50
            t_last = time.time()
            ml = float(np.mean(losses[-50:]))
            gs = ""
            if g_stats:
                g = np.nanmean(np.array(g_stats[-50:]), axis=0)
                gs = f" ground {g[0]:.4f} (recall {g[1]:.2f}, empty {g[2]:.2f})"
            log(f"dit step {step} loss {ml:.4f}{gs} lr {lr:.2e} ({dt:.2f} s/step)")
            logw.writerow([step, ml, time.time()])
            logf.flush()
        if step % 500 == 0:
            save()
    save()
    log(f"denoiser stopped at step {step}")


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["ae", "dec", "encode", "dit", "export"])
    p.add_argument("--data", default=os.path.expanduser("~/v4s_data/train"))
    p.add_argument("--work", default=os.path.expanduser("~/v4s_runs/v4s-small"))
    p.add_argument("--init-from", default=DEFAULT_MODEL_DIR, help="shipped model dir to start from when WORK has no checkpoint")
    p.add_argument("--out", default=DEFAULT_MODEL_DIR)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--cfg-drop", type=float, default=0.1)
    p.add_argument("--anneal", action="store_true", help="dit: cosine learning-rate decay to 0 over this run's --minutes (end a run with it)")
    p.add_argument("--ema", type=float, default=0.999, help="dit: decay of the exponential moving average of the weights (export uses it when present; 0 = off)")
    p.add_argument("--ground", type=float, default=0.0, help="dit: weight of the grounding loss (a training-only head marks the context tokens that show the named object; 0 = off)")
    p.add_argument("--ground-batch", type=int, default=8, help="dit: clips per step in the grounding loss's context-only forward")
    p.add_argument("--ground-layer", type=int, default=2, help="dit: the block (0-based) whose tokens the grounding head reads")
    p.add_argument("--dec-noise", type=float, default=0.2, help="dec: largest latent noise, as a share of the latent std")
    p.add_argument("--preload", action="store_true", help="load all latents into memory")
    p.add_argument("--max-clips", type=int, default=0, help="encode: at most this many clips (0 = all)")
    p.add_argument("--no-flip", action="store_true", help="encode: skip the mirrored copy of each clip")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    os.makedirs(a.work, exist_ok=True)
    if a.stage == "ae":
        stage_ae(a)
    elif a.stage == "dec":
        stage_dec(a)
    elif a.stage == "encode":
        stage_encode(a)
    elif a.stage == "dit":
        stage_dit(a)
    else:
        from export import export_all

        export_all(a, CFG, load_ae, make_denoiser)


if __name__ == "__main__":
    main()
