#!/usr/bin/python3
"""Stores an ONNX graph's float32 weights as float16 initializers, each behind a Cast back to
float32, so that the file is about half as large and the forward still runs in float32 (ONNX
Runtime folds the Casts into float32 constants when it loads the graph).

For issue 21: the repository keeps model files ≤ 30 MB in all, and a float32 denoiser wider than
the shipped one does not fit beside the encoder, decoder and grounder. Initializers with fewer
than --min-size values (biases of small layers, rotary frequencies, grid positions) stay float32.

  /usr/bin/python3 models/training/fp16_weights.py IN.onnx OUT.onnx [--min-size 256]
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--min-size", type=int, default=256, help="initializers with fewer values stay float32")
    a = ap.parse_args()
    m = onnx.load(a.src)
    g = m.graph
    halves, casts, worst = [], [], 0.0
    for init in list(g.initializer):
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.size < a.min_size:
            continue
        h = w.astype(np.float16)
        worst = max(worst, float(np.abs(h.astype(np.float32) - w).max()))
        halves.append(numpy_helper.from_array(h, init.name + "_fp16"))
        casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT, name=init.name + "_to_fp32"))
        g.initializer.remove(init)
    g.initializer.extend(halves)
    for c in reversed(casts):
        g.node.insert(0, c)
    onnx.checker.check_model(m)
    onnx.save(m, a.dst)
    print(f"{len(casts)} initializers stored as float16 (largest rounding {worst:.3g}); wrote {a.dst}")


if __name__ == "__main__":
    main()
