// transformers.js (npm @huggingface/transformers) as a reference, offline
// from a folder's tokenizer.json and tokenizer_config.json:
//   node tests/tokenizers/transformers-ref.mjs ids DIR CASES.json OUT.json
//     [{"text": ".."}, ...] -> [{"ids": [..]}, ...]: tokenizer.encode(text),
//     with the model's special tokens
//   node tests/tokenizers/transformers-ref.mjs chat DIR CONVERSATIONS.json OUT.json
//     [{"messages", "add_generation_prompt"}, ...] -> [{"text"} or {"error"}]:
//     apply_chat_template (Jinja, @huggingface/jinja) with the folder's
//     chat template
// A program of its own: transformers.js needs node's fetch API (Headers),
// which the tests' node runs without.
import fs from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [mode, dir, inFile, outFile] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = `${path.dirname(path.resolve(dir))}/`;
const tok = await AutoTokenizer.from_pretrained(path.basename(path.resolve(dir)), { local_files_only: true });
const items = JSON.parse(fs.readFileSync(inFile, 'utf8'));
let out;
if (mode === 'ids') {
  out = items.map((c) => ({ ids: Array.from(tok.encode(c.text)) }));
} else {
  out = items.map((c) => {
    try {
      return { text: tok.apply_chat_template(c.messages,
        { add_generation_prompt: c.add_generation_prompt, tokenize: false }) };
    } catch (e) {
      return { error: String(e.message ?? e) };
    }
  });
}
fs.writeFileSync(outFile, JSON.stringify(out));
