// llama.cpp as the reference and the peer, through npm node-llama-cpp
// (prebuilt linux-x64 CPU binaries, llama.cpp from its bundled release):
// last-position probabilities, greedy generations and prompt/decode timings
// on a GGUF file. Used by tests/js/llm.test.mjs and tests/bench/llm.mjs.
import { getLlama } from 'node-llama-cpp';

let llamaPromise;
function llama() {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  return llamaPromise;
}

// kvCache: a ggml type name (e.g. 'Q8_0') for the keys and values of the
// KV cache, with flash attention (llama.cpp quantizes values only there).
export async function openModel(file, { threads = 1, contextSize = 1024, batchSize = 512, kvCache } = {}) {
  const l = await llama();
  const model = await l.loadModel({ modelPath: file });
  const kv = kvCache ? { experimentalKvCacheKeyType: kvCache, experimentalKvCacheValueType: kvCache, flashAttention: true } : {};
  const context = await model.createContext({ contextSize, threads, batchSize, sequences: 1, ...kv });
  const sequence = context.getSequence();
  return {
    model, context, sequence,
    // Probabilities of the next token after tokens (llama.cpp's softmax of
    // the logits), as a Float64Array over the vocabulary.
    async probabilities(tokens) {
      await sequence.clearHistory();
      const items = tokens.map((t, i) => (i === tokens.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
      const res = await sequence.controlledEvaluate(items);
      const probs = res[tokens.length - 1].next.probabilities;
      const out = new Float64Array(model.tokens.count ?? model.fileInsights.vocabSize ?? probs.size);
      for (const [id, p] of probs) out[id] = p;
      return out;
    },
    // n greedy tokens after tokens (temperature 0: argmax).
    async greedy(tokens, n) {
      await sequence.clearHistory();
      const got = [];
      for await (const t of sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
        got.push(t);
        if (got.length >= n) break;
      }
      return got;
    },
    // Prompt tokens per second over prompt, and decode tokens per second
    // over n tokens after one token (llama-bench's pp and tg).
    async speed(prompt, n) {
      await sequence.clearHistory();
      let t0 = performance.now();
      await sequence.controlledEvaluate(prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { token: true } }] : t)));
      const prefill = prompt.length * 1000 / (performance.now() - t0);
      await sequence.clearHistory();
      let got = 0;
      t0 = performance.now();
      for await (const _ of sequence.evaluate([prompt[0]], { temperature: 0, yieldEogToken: true })) {
        if (++got >= n) break;
      }
      return { prefill_tok_s: prefill, decode_tok_s: got * 1000 / (performance.now() - t0) };
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}
