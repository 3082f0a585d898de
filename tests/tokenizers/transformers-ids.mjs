// transformers.js (npm @huggingface/transformers) as a tokenizer reference,
// offline from a folder's tokenizer.json and tokenizer_config.json:
//   node tests/tokenizers/transformers-ids.mjs DIR CASES.json OUT.json
// CASES.json: [{"text": ".."}, ...]; OUT.json: [{"ids": [..]}, ...] with the
// model's special tokens, as tokenizer.encode(text) gives them. A program of
// its own: transformers.js needs node's fetch API (Headers), which the
// tests' node runs without.
import fs from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [dir, casesFile, outFile] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = `${path.dirname(path.resolve(dir))}/`;
const tok = await AutoTokenizer.from_pretrained(path.basename(path.resolve(dir)), { local_files_only: true });
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
fs.writeFileSync(outFile, JSON.stringify(cases.map((c) => ({ ids: Array.from(tok.encode(c.text)) }))));
