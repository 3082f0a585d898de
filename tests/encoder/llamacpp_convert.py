"""Converts a Hugging Face encoder folder to GGUF with llama.cpp's own
converter, so that the tests can load in sotto a file that llama.cpp's tools
wrote (tests/js/encoder-llamacpp.test.mjs).

usage: llamacpp_convert.py LLAMA_CPP_SRC HF_DIR OUT.gguf [SENTENCEPIECE_MODEL]

LLAMA_CPP_SRC is llama.cpp's source as npm node-llama-cpp ships it
(convert_hf_to_gguf.py, conversion/, gguf-py/). Three things stand in for
what this machine lacks:
  - transformers: transformers_stub/ gives the converter AutoConfig (the
    folder's config.json) and AutoTokenizer (tokenizer.json, with encoding
    and decoding by Hugging Face's own tokenizers library);
  - Debian 12's torch (1.13) lacks the float8 and unsigned dtypes the
    converter's dtype tables name; no encoder weight uses them, so distinct
    placeholder objects stand in for them;
  - XLM-RoBERTa folders on Hugging Face ship sentencepiece.bpe.model, from
    which the converter reads the vocabulary. The test folders have only
    tokenizer.json; SENTENCEPIECE_MODEL is the test's SentencePiece model,
    which this script writes in fairseq's layout (<unk> <s> </s>, then the
    pieces, so that Hugging Face's ids are the pieces' ids plus one, as
    XLM-RoBERTa's are).
"""
import os
import runpy
import shutil
import sys
import tempfile
from pathlib import Path

import torch

for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
             "uint16", "uint32", "uint64"):
    if not hasattr(torch, name):
        setattr(torch, name, type(name, (), {})())


def fairseq_layout(src: Path, dst: Path) -> None:
    os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    m.ParseFromString(src.read_bytes())
    pieces = list(m.pieces)
    by = {p.piece: p for p in pieces}
    head = ["<s>", "<pad>", "</s>", "<unk>"]
    assert [p.piece for p in pieces[:4]] == head, "expects <s> <pad> </s> <unk> first"
    order = [by["<unk>"], by["<s>"], by["</s>"]] + pieces[4:]
    del m.pieces[:]
    m.pieces.extend(order)
    m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id = 0, 1, 2
    m.trainer_spec.pad_id = -1
    dst.write_bytes(m.SerializeToString())


def main() -> None:
    src, hf, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    spm = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    with tempfile.TemporaryDirectory() as tmp:
        if spm:
            folder = Path(tmp) / hf.name
            shutil.copytree(hf, folder)
            fairseq_layout(spm, folder / "sentencepiece.bpe.model")
            hf = folder
        sys.path[:0] = [str(Path(__file__).parent / "transformers_stub"), str(src / "gguf-py"), str(src)]
        sys.argv = ["convert_hf_to_gguf.py", str(hf), "--outfile", out, "--outtype", "f32"]
        runpy.run_path(str(src / "convert_hf_to_gguf.py"), run_name="__main__")


if __name__ == "__main__":
    main()
