"""Video4Spatial at small scale: a frame autoencoder and a DiT-style flow-matching denoiser.

Shapes (defaults): frames 64x64 RGB in [0, 1]; latents C=8 x 8 x 8; each latent frame is cut into
2x2 patches -> 16 tokens per frame. A clip is K context + N target frames in ONE sequence.

Denoiser inputs (all batch-first):
  latents  float32 [B, F, C, 8, 8]  context latents (clean) followed by noisy target latents
  t        float32 [B, F]           per-frame diffusion time (0 = clean context, 1 = pure noise)
  index    float32 [B, F]           each frame's ORIGINAL stream index, relative to the newest
                                    context frame (context <= 0, targets 1..N); rotary time axis
  object   int64   [B]              instruction: vocabulary index (0 = null / unconditional)
Output:
  v        float32 [B, F, C, 8, 8]  rectified-flow velocity (noise - data); only targets are used.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------
# Frame autoencoder
# ----------------------------------------------------------------------------------------------
class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class FrameEncoder(nn.Module):
    """[B, 3, 64, 64] in [0, 1] -> [B, C, 8, 8] (normalised with the stored mean/std)."""

    def __init__(self, latent_ch=8, width=48):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 3, stride=2, padding=1),  # 32
            ResBlock(w),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),  # 16
            ResBlock(2 * w),
            nn.Conv2d(2 * w, 3 * w, 3, stride=2, padding=1),  # 8
            ResBlock(3 * w),
            nn.SiLU(),
            nn.Conv2d(3 * w, latent_ch, 1),
        )
        self.register_buffer("lat_mean", torch.zeros(1, latent_ch, 1, 1))
        self.register_buffer("lat_std", torch.ones(1, latent_ch, 1, 1))

    def forward(self, x):
        return (self.net(x * 2 - 1) - self.lat_mean) / self.lat_std


class FrameDecoder(nn.Module):
    """[B, C, 8, 8] (normalised) -> [B, 3, 64, 64] in [0, 1]."""

    def __init__(self, latent_ch=8, width=48):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(latent_ch, 3 * w, 3, padding=1),
            ResBlock(3 * w),
            nn.ConvTranspose2d(3 * w, 2 * w, 4, stride=2, padding=1),  # 16
            ResBlock(2 * w),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),  # 32
            ResBlock(w),
            nn.ConvTranspose2d(w, w, 4, stride=2, padding=1),  # 64
            nn.SiLU(),
            nn.Conv2d(w, 3, 3, padding=1),
        )
        self.register_buffer("lat_mean", torch.zeros(1, latent_ch, 1, 1))
        self.register_buffer("lat_std", torch.ones(1, latent_ch, 1, 1))

    def forward(self, z):
        y = self.net(z * self.lat_std + self.lat_mean)
        return torch.clamp(y * 0.5 + 0.5, 0.0, 1.0)

    def forward_raw(self, z):
        """Unclamped output in [-1, 1] units, for training losses."""
        return self.net(z * self.lat_std + self.lat_mean)


# ----------------------------------------------------------------------------------------------
# Denoiser
# ----------------------------------------------------------------------------------------------
class PlainLayerNorm(nn.Module):
    """LayerNorm over the last dimension without affine parameters. It exports as one ONNX
    LayerNormalization node with a constant unit scale and zero bias (no empty inputs, and ONNX
    Runtime runs it as one fused kernel; written out as mean / sub / mul / mean / sqrt / div it ran as
    six unfused nodes)."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x):
        one = torch.ones(self.dim, dtype=x.dtype, device=x.device)
        zero = torch.zeros(self.dim, dtype=x.dtype, device=x.device)
        return F.layer_norm(x, (self.dim,), one, zero, self.eps)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of t in [0, 1] (scaled by 1000). t: [...] -> [..., dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t * 1000.0).unsqueeze(-1) * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def rope_angles(pos, freqs):
    """pos [..., T] , freqs [n] -> angles [..., T, n]."""
    return pos.unsqueeze(-1) * freqs


def apply_rope(x, cos2, sin2):
    """x [..., T, d]; cos2 = (cos, cos) and sin2 = (−sin, sin) over the d/2 pairs, broadcastable to
    x. Rotates pairs (first half, second half): (x1·cos − x2·sin, x2·cos + x1·sin), written as
    x·cos2 + swap(x)·sin2 with swap = the two halves exchanged (one flip of a [.., 2, d/2] view: one
    ONNX Slice instead of two Slices and a Concat; the same products and sums, so the same numbers)."""
    d2 = x.shape[-1] // 2
    swapped = torch.flip(x.reshape(*x.shape[:-1], 2, d2), dims=[-2]).reshape(x.shape)
    return x * cos2 + swapped * sin2


def fused_attention_available():
    """Whether this torch has F.scaled_dot_product_attention (torch >= 2.0; Debian's 1.13 has not)."""
    return hasattr(F, "scaled_dot_product_attention")


class Block(nn.Module):
    # Training on a GPU may set this (train.py --sdpa): attention through one fused kernel
    # (F.scaled_dot_product_attention: the same softmax(q·kᵀ/√d)·v without the [B, H, T, T] score
    # tensor in memory). Export leaves it False: the ONNX graph keeps MatMul / Softmax / MatMul.
    fused_attention = False

    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = PlainLayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = PlainLayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.ada = nn.Linear(dim, 6 * dim)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, cond_f, cos2, sin2):
        # x [B, T, D] with T = F·n tokens, frame-major; cond_f [B, F, D] per-frame conditioning;
        # cos2, sin2 [B, 1, T, d] the rotary factors (see apply_rope).
        # adaLN runs once per FRAME and modulates the frame's n tokens by broadcasting over a
        # [B, F, n, D] view: the same weights and values as running it per token, at 1/n of its
        # FLOPs, and without materialising the modulation per token (expand + six slices of a
        # [B, T, 6D] tensor in the graph before).
        B, T, D = x.shape
        Fr = cond_f.shape[1]
        n = T // Fr
        mods = self.ada(F.silu(cond_f)).unsqueeze(2)  # [B, F, 1, 6D]
        sh1, sc1, g1, sh2, sc2, g2 = mods.chunk(6, dim=-1)  # each [B, F, 1, D]
        x4 = x.reshape(B, Fr, n, D)
        h = (self.norm1(x4) * (1 + sc1) + sh1).reshape(B, T, D)
        qkv = self.qkv(h).reshape(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = apply_rope(q, cos2, sin2).contiguous()
        k = apply_rope(k, cos2, sin2).contiguous()
        v = v.contiguous()
        if Block.fused_attention:
            # under bf16 autocast q and k leave the rotary product in float32 while v is bfloat16
            o = F.scaled_dot_product_attention(q.to(v.dtype), k.to(v.dtype), v)
        else:
            att = torch.matmul(q, k.transpose(-1, -2).contiguous()) * (1.0 / math.sqrt(D // self.heads))
            att = torch.softmax(att, dim=-1)
            o = torch.matmul(att, v)
        o = o.permute(0, 2, 1, 3).reshape(B, Fr, n, D)
        x4 = x4 + g1 * self.proj(o)
        h = self.norm2(x4) * (1 + sc2) + sh2
        x4 = x4 + g2 * self.fc2(F.gelu(self.fc1(h)))
        return x4.reshape(B, T, D)


class Denoiser(nn.Module):
    def __init__(self, latent_ch=8, latent_hw=8, patch=2, dim=128, depth=6, heads=4, vocab=9):
        super().__init__()
        self.latent_ch = latent_ch
        self.latent_hw = latent_hw
        self.patch = patch
        self.dim = dim
        self.heads = heads
        self.grid = latent_hw // patch
        pdim = latent_ch * patch * patch
        self.inp = nn.Linear(pdim, dim)
        self.t_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.obj = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm_out = PlainLayerNorm(dim)
        self.ada_out = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, pdim)
        nn.init.zeros_(self.ada_out.weight)
        nn.init.zeros_(self.ada_out.bias)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        hd = dim // heads
        # rotary split of a head: time gets half, y and x a quarter each (pairs = d/2 per axis)
        self.n_t = hd // 4  # number of time frequencies (pairs)
        self.n_s = hd // 8  # per spatial axis
        t_freqs = torch.exp(-math.log(500.0) * torch.arange(self.n_t, dtype=torch.float32) / max(1, self.n_t - 1))
        s_freqs = torch.exp(-math.log(8.0) * torch.arange(self.n_s, dtype=torch.float32) / max(1, self.n_s - 1)) * (math.pi / 2)
        self.register_buffer("t_freqs", t_freqs)
        self.register_buffer("s_freqs", s_freqs)
        gy, gx = torch.meshgrid(torch.arange(self.grid, dtype=torch.float32), torch.arange(self.grid, dtype=torch.float32), indexing="ij")
        self.register_buffer("pos_y", gy.reshape(-1))
        self.register_buffer("pos_x", gx.reshape(-1))

    def patchify(self, z):
        # z [B, F, C, H, W] -> [B, F*G*G, C*p*p]
        B, Fr, C, H, W = z.shape
        p, G = self.patch, self.grid
        z = z.reshape(B, Fr, C, G, p, G, p).permute(0, 1, 3, 5, 2, 4, 6)
        return z.reshape(B, Fr * G * G, C * p * p)

    def unpatchify(self, x, Fr):
        B = x.shape[0]
        p, G, C = self.patch, self.grid, self.latent_ch
        x = x.reshape(B, Fr, G, G, C, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(B, Fr, C, G * p, G * p)

    def tokens(self, latents, t, index, obj, blocks=None):
        """latents [B, F, C, H, W], t [B, F] diffusion time, index [B, F] stream index relative to the
        newest context frame, obj [B] vocabulary index -> (tokens [B, F·n, D] after the first `blocks`
        blocks (all when None), per-frame conditioning [B, F, D]). Training reads the tokens of a
        middle block through it (the grounding loss) without running the rest of the network."""
        B, Fr = latents.shape[0], latents.shape[1]
        n = self.grid * self.grid
        x = self.inp(self.patchify(latents))  # [B, T, D]
        temb = self.t_mlp(timestep_embedding(t, self.dim))  # [B, F, D]
        cond_f = temb + self.obj(obj).unsqueeze(1)  # [B, F, D]
        # rotary angles: time = original stream index, y/x = patch grid position
        tpos = index.unsqueeze(2).expand(B, Fr, n).reshape(B, Fr * n)
        ypos = self.pos_y.unsqueeze(0).expand(Fr, n).reshape(1, Fr * n).expand(B, Fr * n)
        xpos = self.pos_x.unsqueeze(0).expand(Fr, n).reshape(1, Fr * n).expand(B, Fr * n)
        ang = torch.cat([rope_angles(tpos, self.t_freqs), rope_angles(ypos, self.s_freqs), rope_angles(xpos, self.s_freqs)], dim=-1)
        cos = torch.cos(ang).unsqueeze(1)
        sin = torch.sin(ang).unsqueeze(1)
        cos2 = torch.cat([cos, cos], dim=-1)  # [B, 1, T, d]
        sin2 = torch.cat([-sin, sin], dim=-1)
        for blk in self.blocks[:blocks]:
            x = blk(x, cond_f, cos2, sin2)
        return x, cond_f

    def forward(self, latents, t, index, obj):
        """The velocity v [B, F, C, H, W] for the inputs of `tokens`."""
        B, Fr = latents.shape[0], latents.shape[1]
        n = self.grid * self.grid
        x, cond_f = self.tokens(latents, t, index, obj)
        mods = self.ada_out(F.silu(cond_f)).unsqueeze(2)  # [B, F, 1, 2D], per frame as in the blocks
        sh, sc = mods.chunk(2, dim=-1)
        x = self.out(self.norm_out(x.reshape(B, Fr, n, self.dim)) * (1 + sc) + sh)
        return self.unpatchify(x.reshape(B, Fr * n, -1), Fr)


def count_flops(modules, fn):
    """FLOPs of running fn() once: 2 × the multiply-adds of every nn.Linear inside `modules` (forward
    hooks) and of torch.matmul (patched while fn runs). Elementwise work is not counted."""
    total = [0]

    def lin_hook(mod, inp, out):
        x = inp[0]
        total[0] += 2 * (x.numel() // mod.in_features) * mod.in_features * mod.out_features

    hooks = [m.register_forward_hook(lin_hook) for root in modules for m in root.modules() if isinstance(m, nn.Linear)]
    orig = torch.matmul

    def counting_matmul(a, b, *args, **kw):
        out = orig(a, b, *args, **kw)
        total[0] += 2 * out.numel() * a.shape[-1]
        return out

    torch.matmul = counting_matmul
    fused, Block.fused_attention = Block.fused_attention, False  # count the attention's two products too
    try:
        with torch.no_grad():
            fn()
    finally:
        torch.matmul = orig
        Block.fused_attention = fused
        for h in hooks:
            h.remove()
    return total[0]


def count_params(m):
    return sum(p.numel() for p in m.parameters())
