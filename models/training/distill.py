#!/usr/bin/python3
"""Distils the denoiser's guided 2S-step sampler into an S-step sampler without guidance (issue 21,
item 2: fewer steps free time for a larger denoiser).

The teacher (a shipped model's denoiser, frozen) samples as the node does: Euler steps on the
uniform grid of `--teacher-steps` (2S) times from 1 to 0, each with the joint-CFG velocity
v_u + w·(v_c − v_u) (the unconditional branch: context replaced by noise at t = 1, null object).
The student starts as a copy of the teacher and learns, on noised training clips x_t = (1 − t)·x0 +
t·ε at its own grid's times t (S steps: t = 1, 1 − 1/S, …), the one velocity that lands where the
teacher's two guided steps land: v* = (x_t − x_{t''}) / (t − t''). Sampled with `--steps S
--guidance 1`, the student costs S forwards of M sequences per plan, against the teacher's 2S of
2M: a quarter of the denoiser's work (progressive distillation, Salimans & Ho 2022, with the
guidance folded in, Meng et al. 2023).

Usage:
  /usr/bin/python3 models/training/distill.py --frames DATA --work W [--model DIR] [--steps 4]
      [--minutes 60] [--batch 8] [--lr 2e-5] [--guidance 3] [--threads 2] [--device cpu]
  then export W as usual (`train.py ae --minutes 0 --work W` once, `train.py export --work W --out
  OUT`) and evaluate with `eval --model OUT --steps S --guidance 1`.
W/dit.pt holds the student (live weights, EMA, optimiser, step); a run with W/dit.pt continues it.
"""
import argparse
import copy
import json
import math
import os
import sys
import time
import types

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see train.py)

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import (  # noqa: E402
    CFG, DEFAULT_MODEL_DIR, EPISODES_FORMAT, EpisodePool, StreamedClips, count_params, encoder_for_streaming, load_onnx_initializers,
    log, make_denoiser, save_atomic, shipped_arch, shipped_steps, use_arch,
)


def guided_velocity(den, ctx, ctx_noise, xt, t, idx, obj, w):
    """The node's joint-CFG velocity on the target frames: v_u + w·(v_c − v_u), both branches in one
    batch. ctx [B, K, …] clean context, ctx_noise [B, K, …] the unconditional branch's context, xt
    [B, N, …] noisy targets at time t (float), idx [B, K+N], obj [B]. -> [B, N, C, h, w]."""
    B, K = ctx.shape[:2]
    N = xt.shape[1]
    lat = torch.cat([torch.cat([ctx, xt], dim=1), torch.cat([ctx_noise, xt], dim=1)])
    tv = torch.cat([torch.cat([torch.zeros(B, K), torch.full((B, N), t)], dim=1), torch.cat([torch.ones(B, K), torch.full((B, N), t)], dim=1)])
    v = den(lat, tv, torch.cat([idx, idx]), torch.cat([obj, torch.zeros_like(obj)]))[:, K:]
    vc, vu = v[:B], v[B:]
    return vu + w * (vc - vu)


def distil_target(teacher, ctx, xt, t, t_next, idx, obj, w, gen):
    """The velocity that takes x_t at time t to where the teacher's two guided Euler steps (t → mid →
    t_next) take it. -> [B, N, …]."""
    mid = 0.5 * (t + t_next)
    noise = torch.randn(ctx.shape, generator=gen)
    v1 = guided_velocity(teacher, ctx, noise, xt, t, idx, obj, w)
    x1 = xt + (mid - t) * v1
    v2 = guided_velocity(teacher, ctx, noise, x1, mid, idx, obj, w)
    x2 = x1 + (t_next - mid) * v2
    return (xt - x2) / (t - t_next)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", required=True, help="a `dataset` or `dataset --episodes` directory (worlds other than evaluation's)")
    p.add_argument("--work", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL_DIR, help="the teacher: a model directory")
    p.add_argument("--steps", type=int, default=4, help="the student's steps S (the teacher takes 2S)")
    p.add_argument("--guidance", type=float, default=3.0, help="the teacher's CFG scale (the student runs with 1)")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.steps < 1:
        raise SystemExit(f"--steps must be >= 1, found {a.steps}")
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    dev = torch.device(a.device)
    if dev.type != "cpu":
        raise SystemExit(f"--device {a.device}: this script runs on the CPU only (the teacher's passes use CPU tensors)")
    meta = json.load(open(os.path.join(a.frames, "meta.json")))
    json.dump(meta, open(os.path.join(a.work, "data_meta.json"), "w"))  # export reads it
    K = meta["k"]
    use_arch(shipped_arch(a.model))
    teacher = make_denoiser(len(meta["vocabulary"]))
    if load_onnx_initializers(teacher, os.path.join(a.model, "denoiser.onnx"), prefix="den.") == 0:
        raise SystemExit(f"no denoiser weights in {a.model!r}/denoiser.onnx")
    teacher.eval()
    for q in teacher.parameters():
        q.requires_grad_(False)
    student = copy.deepcopy(teacher)
    for q in student.parameters():
        q.requires_grad_(True)
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=a.lr, weight_decay=0.0)
    ck = os.path.join(a.work, "dit.pt")
    arch = {k: CFG[k] for k in ("dim", "depth", "heads")}
    step = 0
    teacher_steps = shipped_steps(a.model, "denoiser_steps")
    ema = {k: v.detach().clone() for k, v in student.state_dict().items()}
    if os.path.exists(ck):
        s = torch.load(ck, map_location="cpu")
        student.load_state_dict(s["den"])
        opt.load_state_dict(s["opt"])
        ema = s["ema"]
        step = s["distill"]["steps"]
        log(f"resumed the student from {ck} at distillation step {step}")
    source = EpisodePool if meta.get("format") == EPISODES_FORMAT else StreamedClips
    clips = source(types.SimpleNamespace(frames=a.frames), encoder_for_streaming(types.SimpleNamespace(work="", init_from=a.model), dev), K, teacher.grid, meta["camera"]["width"], dev, False)
    clips.refresh()
    log(f"teacher {arch} ({count_params(teacher)} parameters, step {teacher_steps}) from {a.model}: {2 * a.steps} guided steps (w = {a.guidance}) -> "
        f"student: {a.steps} steps without guidance; {clips.describe()}; batch {a.batch}, lr {a.lr}")
    grid = [1.0 - i / a.steps for i in range(a.steps + 1)]
    rng = np.random.default_rng(a.seed + step)
    gen = torch.Generator().manual_seed(a.seed + step)
    live = student.state_dict()
    t_end = time.time() + a.minutes * 60
    losses = []
    t_last = time.time()

    def save():
        save_atomic({"den": student.state_dict(), "ema": ema, "opt": opt.state_dict(), "step": teacher_steps, "arch": arch,
                     "distill": {"steps": step, "student_steps": a.steps, "teacher_steps": 2 * a.steps, "guidance": a.guidance, "from": os.path.abspath(a.model)}}, ck)

    while time.time() < t_end:
        x0, idx, obj, _ = clips.sample(rng, a.batch, dev)
        i = int(rng.integers(a.steps))
        t, t_next = grid[i], grid[i + 1]
        eps = torch.randn(x0[:, K:].shape, generator=gen)
        xt = (1 - t) * x0[:, K:] + t * eps
        with torch.no_grad():
            target = distil_target(teacher, x0[:, :K], xt, t, t_next, idx, obj, a.guidance, gen)
        B, N = xt.shape[:2]
        tv = torch.cat([torch.zeros(B, K), torch.full((B, N), t)], dim=1)
        v = student(torch.cat([x0[:, :K], xt], dim=1), tv, idx, obj)[:, K:]
        loss = (v - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, 1 - (t_end - time.time()) / (a.minutes * 60))))
        opt.step()
        with torch.no_grad():
            for k, val in live.items():
                if val.dtype.is_floating_point:
                    ema[k].mul_(a.ema).add_(val, alpha=1 - a.ema)
        losses.append(loss.item())
        step += 1
        if step % 20 == 0:
            dt = (time.time() - t_last) / 20
            t_last = time.time()
            log(f"distil step {step} loss {np.mean(losses[-20:]):.4f} lr {opt.param_groups[0]['lr']:.2e} ({dt:.2f} s/step)")
        if step % a.save_every == 0:
            save()
    save()
    log(f"stopped at distillation step {step}; the student is {ck}")


if __name__ == "__main__":
    main()
