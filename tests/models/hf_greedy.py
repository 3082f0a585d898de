#!/usr/bin/python3
"""hf_greedy.py - greedy decoding with the PyTorch reference forward pass of
hf_reference.py (the model loaded once): the last position's logits after
the prompt, and the ids that taking the largest logit (the lowest id on a
tie) gives, token after token.

    hf_greedy.py DIR --tokens 1,2,3 --generate 64  -> {"logits":[..],"greedy":[..]}
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import decoder, load  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('folder')
    ap.add_argument('--tokens', required=True)
    ap.add_argument('--generate', type=int, default=0)
    a = ap.parse_args()
    cfg, w = load(a.folder)
    seq = [int(t) for t in a.tokens.split(',')]
    with torch.no_grad():
        logits = decoder(cfg, w, seq)
        out = {'logits': logits, 'greedy': []}
        for _ in range(a.generate):
            nxt = int(torch.argmax(torch.tensor(logits)))  # ties: the first id
            out['greedy'].append(nxt)
            seq.append(nxt)
            logits = decoder(cfg, w, seq)
    json.dump(out, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
