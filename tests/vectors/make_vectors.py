#!/usr/bin/env python3
"""Writes tests/vectors/ops.json: requests for the engine's tensor ops with the
expected results computed independently here, in double precision with
Python's math module (no shared code with the engine). Both the native C test
runner and the wasm node test runner check the engine against this file.

    python3 tests/vectors/make_vectors.py
"""
import json, math, random

rng = random.Random(20261125)


def rand(shape, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    return {"shape": list(shape), "data": [round(rng.uniform(-scale, scale), 6) for _ in range(n)]}


def rows(t):
    cols = t["shape"][-1]
    d = t["data"]
    return [d[i:i + cols] for i in range(0, len(d), cols)]


def matmul(a, b):
    m, k = a["shape"]
    n = b["shape"][1]
    A, B = a["data"], b["data"]
    return {"shape": [m, n], "data": [sum(A[i * k + p] * B[p * n + j] for p in range(k))
                                      for i in range(m) for j in range(n)]}


def linear(x, w, bias):
    m, k = x["shape"]
    n = w["shape"][0]
    X, W = x["data"], w["data"]
    return {"shape": [m, n], "data": [sum(X[i * k + p] * W[j * k + p] for p in range(k)) +
                                      (bias["data"][j] if bias else 0.0)
                                      for i in range(m) for j in range(n)]}


def softmax(x):
    out = []
    for r in rows(x):
        mx = max(r)
        e = [math.exp(v - mx) for v in r]
        s = sum(e)
        out += [v / s for v in e]
    return {"shape": x["shape"], "data": out}


def layernorm(x, gamma, beta, eps):
    out = []
    for r in rows(x):
        mean = sum(r) / len(r)
        var = sum((v - mean) ** 2 for v in r) / len(r)
        inv = 1 / math.sqrt(var + eps)
        out += [(v - mean) * inv * (gamma["data"][i] if gamma else 1) + (beta["data"][i] if beta else 0)
                for i, v in enumerate(r)]
    return {"shape": x["shape"], "data": out}


UNARY = {
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "tanh": math.tanh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "exp": math.exp,
    "sqrt": math.sqrt,
    "negate": lambda v: -v,
    "abs": abs,
    "square": lambda v: v * v,
}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "max": max, "min": min}


def broadcast(a, b, f):
    ra, rb = len(a["shape"]), len(b["shape"])
    r = max(ra, rb)
    sa = [1] * (r - ra) + a["shape"]
    sb = [1] * (r - rb) + b["shape"]
    shape = [max(x, y) for x, y in zip(sa, sb)]

    def index(s, idx):
        i = 0
        for d, v in zip(s, idx):
            i = i * d + (0 if d == 1 else v)
        return i
    out = []
    total = math.prod(shape)
    for flat in range(total):
        idx, rem = [], flat
        for d in reversed(shape):
            idx.append(rem % d)
            rem //= d
        idx.reverse()
        out.append(f(a["data"][index(sa, idx)], b["data"][index(sb, idx)]))
    return {"shape": shape, "data": out}


cases = []


def case(name, request, expect=None, error=None, tol=None):
    c = {"name": name, "request": dict(request, id=name)}
    if expect is not None:
        c["expect"] = expect
    if error is not None:
        c["error"] = error
    if tol is not None:
        c["tol"] = tol
    cases.append(c)


for m, k, n in [(1, 1, 1), (3, 5, 7), (8, 64, 32), (1, 384, 96), (17, 33, 65), (16, 768, 24)]:
    a, b = rand([m, k]), rand([k, n])
    case(f"matmul {m}x{k}x{n}", {"op": "tensor.matmul", "a": a, "b": b}, matmul(a, b))
for m, k, n, with_bias in [(4, 16, 8, True), (5, 384, 96, True), (2, 10, 3, False)]:
    x, w = rand([m, k]), rand([n, k])
    bias = rand([n]) if with_bias else None
    req = {"op": "tensor.linear", "x": x, "w": w}
    if bias:
        req["bias"] = bias
    case(f"linear {m}x{k}->{n}", req, linear(x, w, bias))
for shape, scale in [([1, 5], 1), ([4, 100], 10), ([3, 1000], 30), ([7], 5)]:
    x = rand(shape, scale)
    case(f"softmax {shape}", {"op": "tensor.softmax", "x": x}, softmax(x))
for shape, affine in [([2, 8], False), ([5, 384], True), ([3, 768], True)]:
    x = rand(shape, 3)
    g = rand([shape[-1]]) if affine else None
    be = rand([shape[-1]]) if affine else None
    req = {"op": "tensor.layernorm", "x": x, "eps": 1e-12 if affine else 1e-5}
    if affine:
        req["gamma"], req["beta"] = g, be
    case(f"layernorm {shape}", req, layernorm(x, g, be, req["eps"]))
for fn, f in UNARY.items():
    lo = 0.0 if fn == "sqrt" else -6.0
    x = {"shape": [2, 61], "data": [round(lo + (6 - lo) * i / 121, 6) for i in range(122)]}
    case(f"unary {fn}", {"op": "tensor.unary", "fn": fn, "x": x},
         {"shape": x["shape"], "data": [f(v) for v in x["data"]]})
for fn, f in BINARY.items():
    a, b = rand([3, 4, 5]), rand([4, 1])
    if fn == "div":
        b["data"] = [v if abs(v) > 0.1 else 0.5 for v in b["data"]]
    case(f"binary {fn} broadcast", {"op": "tensor.binary", "fn": fn, "a": a, "b": b}, broadcast(a, b, f))
a, b = rand([2, 3]), rand([2, 3])
case("binary add same shape", {"op": "tensor.binary", "fn": "add", "a": a, "b": b},
     broadcast(a, b, BINARY["add"]))

# Errors are part of the contract too.
case("matmul shape mismatch", {"op": "tensor.matmul", "a": rand([2, 3]), "b": rand([4, 2])}, error="bad_request")
case("data length mismatch", {"op": "tensor.softmax", "x": {"shape": [2, 2], "data": [1, 2, 3]}}, error="bad_request")
case("unknown unary", {"op": "tensor.unary", "fn": "nope", "x": rand([2])}, error="bad_request")
case("no broadcast", {"op": "tensor.binary", "fn": "add", "a": rand([3]), "b": rand([4])}, error="bad_request")
case("unknown op", {"op": "tensor.nope"}, error="unknown_op")

json.dump({"about": "generated by tests/vectors/make_vectors.py; expected values in double precision",
           "tolerance": {"abs": 2e-5, "rel": 2e-5},
           "cases": cases}, open(__file__.replace("make_vectors.py", "ops.json"), "w"), separators=(",", ":"))
print(len(cases), "cases")
