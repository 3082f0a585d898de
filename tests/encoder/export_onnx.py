#!/usr/bin/env python3
"""Exports a Hugging Face BERT-family folder to ONNX with torch.onnx, for the
benchmark's peers (onnxruntime-node and onnxruntime-web): the same weights,
computed by tests/models/bert_reference.py's PyTorch code, traced into a graph with inputs
input_ids and attention_mask ([batch, sequence], int64) and output
embeddings (mean pooling, [batch, hidden]), opset 14.

With --int8 every linear layer is written as onnxruntime's dynamic
quantization writes it (onnxruntime.quantization.quantize_dynamic, the form of
the int8 "quantized" ONNX files that Transformers.js runs by default):
DynamicQuantizeLinear of the activations (uint8, per tensor), MatMulInteger with
the weights as int8 (symmetric, one scale per output column), Cast, Mul by the
two scales, Add of the bias. onnxruntime fuses the chain into its own int8
matrix product when it loads the file.

    /usr/bin/python3 tests/encoder/export_onnx.py MODEL_DIR OUT.onnx [--int8]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../models"))
from bert_reference import Encoder  # noqa: E402
from hf_reference import load  # noqa: E402


class MeanPooled(torch.nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, input_ids, attention_mask):
        h = self.enc.encode(input_ids, attention_mask, torch.zeros_like(input_ids))
        m = attention_mask[:, :, None].float()
        return (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


class DynamicQuantizedLinear(torch.autograd.Function):
    """y = x W^T + b as onnxruntime's dynamically quantized MatMul; the forward
    pass (run only while tracing) gives the float result's shape."""

    @staticmethod
    def forward(ctx, x, wq, scale, bias):
        return torch.matmul(x, wq.float() * scale) + bias

    @staticmethod
    def symbolic(g, x, wq, scale, bias):
        xq, xs, xz = g.op("DynamicQuantizeLinear", x, outputs=3)
        zero = g.op("Constant", value_t=torch.tensor(0, dtype=torch.int8))
        y = g.op("MatMulInteger", xq, wq, xz, zero)
        y = g.op("Cast", y, to_i=1)  # TensorProto.FLOAT
        return g.op("Add", g.op("Mul", y, g.op("Mul", xs, scale)), bias)


def quantize_linears(enc):
    """Replaces enc.linear by the int8 form; weights [out, in] become int8
    [in, out] with max |w| of each output column at 127."""
    def linear(x, name):
        w, b = enc.t(name + ".weight"), enc.t(name + ".bias")
        scale = w.abs().amax(dim=1).clamp(min=1e-30) / 127
        wq = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8).t().contiguous()
        return DynamicQuantizedLinear.apply(x, wq, scale.float(), b)
    enc.linear = linear


def main():
    enc = Encoder(*load(sys.argv[1]))
    if "--int8" in sys.argv[3:]:
        quantize_linears(enc)
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    torch.onnx.export(MeanPooled(enc), (ids, mask), sys.argv[2], opset_version=14,
                      input_names=["input_ids", "attention_mask"], output_names=["embeddings"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "embeddings": {0: "batch"}})


if __name__ == "__main__":
    main()
