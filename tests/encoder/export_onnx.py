#!/usr/bin/env python3
"""Exports a Hugging Face BERT-family folder to ONNX with torch.onnx, for the
benchmark's peers (onnxruntime-node and onnxruntime-web): the same weights,
computed by tests/models/bert_reference.py's PyTorch code, traced into a graph with inputs
input_ids and attention_mask ([batch, sequence], int64) and output
embeddings (mean pooling, [batch, hidden]), opset 14.

    /usr/bin/python3 tests/encoder/export_onnx.py MODEL_DIR OUT.onnx
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


def main():
    enc = Encoder(*load(sys.argv[1]))
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    torch.onnx.export(MeanPooled(enc), (ids, mask), sys.argv[2], opset_version=14,
                      input_names=["input_ids", "attention_mask"], output_names=["embeddings"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "embeddings": {0: "batch"}})


if __name__ == "__main__":
    main()
