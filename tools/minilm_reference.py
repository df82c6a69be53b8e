#!/usr/bin/env python3
"""Independent NumPy reference implementation of all-MiniLM-L6-v2.

SocioGraph embeds text with sentence-transformers/all-MiniLM-L6-v2 from Rust.
The Rust parity test checks that code against the numbers this script prints
for the fixed sentences in testdata/minilm/sentences.txt.

To be a useful second opinion the script shares nothing with the Rust side
and with the usual Python stack: it needs only numpy and the standard
library (no torch, transformers, tokenizers or safetensors). Every step is
written out here:

  1. safetensors parsing: an 8-byte little-endian header length, a JSON
     header, then raw little-endian tensor bytes (F32, F16, BF16, ints).
  2. BERT tokenisation: the normaliser (clean text, CJK spacing, accent
     stripping, lowercasing), the pre-tokeniser (split on whitespace and
     punctuation) and greedy longest-match WordPiece, then [CLS] ... [SEP],
     truncated to max_seq_length (256, from sentence_bert_config.json).
  3. BERT encoder: word + position + token-type embeddings, LayerNorm, six
     layers of masked multi-head self-attention and an erf-GELU MLP, each
     with residual + LayerNorm.
  4. sentence-transformers head: attention-mask mean pooling and L2
     normalisation.

Usage:
  python tools/minilm_reference.py --model-dir DIR [--tokens] SENTENCE...
  python tools/minilm_reference.py --model-dir DIR --input FILE

JSON on stdout:
  {"model": "all-MiniLM-L6-v2", "dtype": ..., "max_seq_length": 256,
   "embeddings": [[384 floats], ...], "token_ids": [[...], ...]}
With --tokens a "tokens" list of WordPiece strings is added; with
--tokens-only the model is not run and "embeddings" is left out.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_MAX_SEQ_LENGTH = 256


# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------

_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def _bf16_to_f32(raw: bytes) -> np.ndarray:
    """bfloat16 is the top half of a float32: widen by shifting 16 bits."""
    halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
    return (halves << 16).view(np.float32)


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every tensor of a .safetensors file into a numpy array."""
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    body_start = 8 + header_len
    if body_start > len(data):
        raise ValueError(f"{path}: header length {header_len} runs past the end of the file")
    header = json.loads(data[8:body_start].decode("utf-8"))

    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[body_start + begin : body_start + end]
        dtype = info["dtype"]
        if dtype == "BF16":
            array = _bf16_to_f32(raw)
        elif dtype in _SAFETENSORS_DTYPES:
            array = np.frombuffer(raw, dtype=_SAFETENSORS_DTYPES[dtype])
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        tensors[name] = array.reshape(info["shape"])
    return tensors


# ---------------------------------------------------------------------------
# Tokeniser
# ---------------------------------------------------------------------------

# Code points that Rust's char::is_whitespace accepts besides category Zs;
# the Rust `tokenizers` crate uses that definition.
_EXTRA_WHITESPACE = {"\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"}

# CJK Unified Ideograph blocks that BERT surrounds with spaces.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_whitespace(ch: str) -> bool:
    return ch == " " or ch in _EXTRA_WHITESPACE or unicodedata.category(ch) == "Zs"


def is_control(ch: str) -> bool:
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch: str) -> bool:
    """ASCII symbols count as punctuation for BERT, as does Unicode P*."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


@dataclass
class TokenizerSettings:
    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool = True
    lowercase: bool = True
    unk_token: str = "[UNK]"
    cls_token: str = "[CLS]"
    sep_token: str = "[SEP]"
    continuing_prefix: str = "##"
    max_input_chars_per_word: int = 100


def read_tokenizer_settings(model_dir: Path) -> tuple[TokenizerSettings, list[str]]:
    """Settings from tokenizer.json (or tokenizer_config.json) and the special tokens."""
    settings = TokenizerSettings()
    special_tokens: list[str] = []
    tokenizer_json = model_dir / "tokenizer.json"
    tokenizer_config = model_dir / "tokenizer_config.json"
    if tokenizer_json.exists():
        spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        norm = spec.get("normalizer") or {}
        if norm.get("type") == "BertNormalizer":
            settings.clean_text = norm.get("clean_text", True)
            settings.handle_chinese_chars = norm.get("handle_chinese_chars", True)
            settings.lowercase = norm.get("lowercase", True)
            accents = norm.get("strip_accents")
            # As in BERT: unspecified accent stripping follows lowercasing.
            settings.strip_accents = settings.lowercase if accents is None else accents
        model = spec.get("model") or {}
        settings.unk_token = model.get("unk_token", settings.unk_token)
        settings.continuing_prefix = model.get("continuing_subword_prefix", settings.continuing_prefix)
        settings.max_input_chars_per_word = model.get(
            "max_input_chars_per_word", settings.max_input_chars_per_word
        )
        special_tokens = [t["content"] for t in spec.get("added_tokens", []) if t.get("special")]
    elif tokenizer_config.exists():
        cfg = json.loads(tokenizer_config.read_text(encoding="utf-8"))
        settings.lowercase = cfg.get("do_lower_case", True)
        accents = cfg.get("strip_accents")
        settings.strip_accents = settings.lowercase if accents is None else accents
        settings.handle_chinese_chars = cfg.get("tokenize_chinese_chars", True)
        settings.unk_token = cfg.get("unk_token", settings.unk_token)
    if not special_tokens:
        special_tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return settings, special_tokens


def read_vocab(path: Path) -> dict[str, int]:
    """vocab.txt: one token per line, the line number is the id."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {token.rstrip("\r"): index for index, token in enumerate(lines)}


class BertTokenizer:
    """BERT uncased tokeniser: normaliser, pre-tokeniser and WordPiece."""

    def __init__(self, vocab: dict[str, int], settings: TokenizerSettings, special_tokens: list[str]):
        self.vocab = vocab
        self.inverse_vocab = {index: token for token, index in vocab.items()}
        self.settings = settings
        # Longest first, so that a token that contains another wins.
        self.special_tokens = sorted(special_tokens, key=len, reverse=True)

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> "BertTokenizer":
        settings, special = read_tokenizer_settings(model_dir)
        return cls(read_vocab(model_dir / "vocab.txt"), settings, special)

    # -- normaliser ---------------------------------------------------------

    def normalize(self, text: str) -> str:
        s = self.settings
        if s.clean_text:
            text = "".join(
                " " if is_whitespace(ch) else ch
                for ch in text
                if not (ch == "\x00" or ch == "\ufffd" or is_control(ch))
            )
        if s.handle_chinese_chars:
            text = "".join(f" {ch} " if is_cjk(ch) else ch for ch in text)
        if s.strip_accents:
            text = "".join(
                ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
            )
        if s.lowercase:
            # Character by character (no final-sigma context), like the Rust crate.
            text = "".join(ch.lower() for ch in text)
        return text

    # -- pre-tokeniser ------------------------------------------------------

    @staticmethod
    def split_words(text: str) -> list[str]:
        """Split on whitespace (dropped) and punctuation (kept, one per word)."""
        words: list[str] = []
        current: list[str] = []
        for ch in text:
            if is_whitespace(ch) or is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                if not is_whitespace(ch):
                    words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    # -- WordPiece ----------------------------------------------------------

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first split of one word into vocabulary pieces."""
        s = self.settings
        if len(word) > s.max_input_chars_per_word:
            return [s.unk_token]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            piece = None
            while start < end:
                candidate = word[start:end]
                if start > 0:
                    candidate = s.continuing_prefix + candidate
                if candidate in self.vocab:
                    piece = candidate
                    break
                end -= 1
            if piece is None:
                return [s.unk_token]
            pieces.append(piece)
            start = end
        return pieces

    # -- whole pipeline -----------------------------------------------------

    def split_special(self, text: str) -> list[tuple[str, bool]]:
        """Cut out special tokens written literally in the raw text, e.g. "[SEP]"."""
        parts: list[tuple[str, bool]] = []
        pos = 0
        while pos < len(text):
            hit = None
            for token in self.special_tokens:
                index = text.find(token, pos)
                if index != -1 and (hit is None or index < hit[0]):
                    hit = (index, token)
            if hit is None:
                parts.append((text[pos:], False))
                break
            index, token = hit
            if index > pos:
                parts.append((text[pos:index], False))
            parts.append((token, True))
            pos = index + len(token)
        return parts

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for part, is_special in self.split_special(text):
            if is_special:
                tokens.append(part)
                continue
            for word in self.split_words(self.normalize(part)):
                tokens.extend(self.wordpiece(word))
        return tokens

    def encode(self, text: str, max_length: int) -> list[int]:
        """Token ids with [CLS]/[SEP], truncated to max_length in total."""
        s = self.settings
        tokens = self.tokenize(text)[: max(max_length - 2, 0)]
        tokens = [s.cls_token, *tokens, s.sep_token]
        unk_id = self.vocab[s.unk_token]
        return [self.vocab.get(token, unk_id) for token in tokens]

    def ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.inverse_vocab[i] for i in ids]


# ---------------------------------------------------------------------------
# BERT encoder
# ---------------------------------------------------------------------------


@dataclass
class BertConfig:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    layer_norm_eps: float
    max_position_embeddings: int
    hidden_act: str

    @classmethod
    def from_file(cls, path: Path) -> "BertConfig":
        cfg = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            hidden_size=cfg["hidden_size"],
            num_layers=cfg["num_hidden_layers"],
            num_heads=cfg["num_attention_heads"],
            intermediate_size=cfg["intermediate_size"],
            layer_norm_eps=cfg.get("layer_norm_eps", 1e-12),
            max_position_embeddings=cfg.get("max_position_embeddings", 512),
            hidden_act=cfg.get("hidden_act", "gelu"),
        )


def find_prefix(tensors: dict[str, np.ndarray]) -> str:
    """Tensor-name prefix in front of "embeddings.", e.g. "" or "bert."."""
    suffix = "embeddings.word_embeddings.weight"
    for name in tensors:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    raise KeyError("no embeddings.word_embeddings.weight tensor in the checkpoint")


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x * Phi(x), with the error function from math.erf."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """PyTorch Linear: weight is stored as [out_features, in_features]."""
    return x @ weight.T + bias


def softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


class BertModel:
    def __init__(self, config: BertConfig, tensors: dict[str, np.ndarray], dtype: np.dtype):
        if config.hidden_act != "gelu":
            raise ValueError(f"unsupported hidden_act {config.hidden_act!r}")
        self.config = config
        self.dtype = dtype
        self.prefix = find_prefix(tensors)
        self.tensors = tensors

    @classmethod
    def from_model_dir(cls, model_dir: Path, dtype: np.dtype) -> "BertModel":
        config = BertConfig.from_file(model_dir / "config.json")
        tensors = load_safetensors(model_dir / "model.safetensors")
        return cls(config, tensors, dtype)

    def weight(self, name: str) -> np.ndarray:
        return self.tensors[self.prefix + name].astype(self.dtype, copy=False)

    def embed(self, input_ids: np.ndarray) -> np.ndarray:
        seq_len = input_ids.shape[1]
        if seq_len > self.config.max_position_embeddings:
            raise ValueError(f"sequence of {seq_len} tokens exceeds the position table")
        words = self.weight("embeddings.word_embeddings.weight")[input_ids]
        positions = self.weight("embeddings.position_embeddings.weight")[:seq_len]
        token_type = self.weight("embeddings.token_type_embeddings.weight")[0]
        x = words + positions[None, :, :] + token_type
        return layer_norm(
            x,
            self.weight("embeddings.LayerNorm.weight"),
            self.weight("embeddings.LayerNorm.bias"),
            self.config.layer_norm_eps,
        )

    def attention(self, x: np.ndarray, mask_bias: np.ndarray, layer: str) -> np.ndarray:
        batch, seq_len, hidden = x.shape
        heads = self.config.num_heads
        head_dim = hidden // heads

        def project(kind: str) -> np.ndarray:
            y = linear(x, self.weight(f"{layer}.attention.self.{kind}.weight"),
                       self.weight(f"{layer}.attention.self.{kind}.bias"))
            return y.reshape(batch, seq_len, heads, head_dim).transpose(0, 2, 1, 3)

        q, k, v = project("query"), project("key"), project("value")
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim)
        probs = softmax(scores + mask_bias)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq_len, hidden)
        out = linear(context, self.weight(f"{layer}.attention.output.dense.weight"),
                     self.weight(f"{layer}.attention.output.dense.bias"))
        return layer_norm(out + x, self.weight(f"{layer}.attention.output.LayerNorm.weight"),
                          self.weight(f"{layer}.attention.output.LayerNorm.bias"),
                          self.config.layer_norm_eps)

    def feed_forward(self, x: np.ndarray, layer: str) -> np.ndarray:
        h = gelu(linear(x, self.weight(f"{layer}.intermediate.dense.weight"),
                        self.weight(f"{layer}.intermediate.dense.bias")))
        out = linear(h, self.weight(f"{layer}.output.dense.weight"),
                     self.weight(f"{layer}.output.dense.bias"))
        return layer_norm(out + x, self.weight(f"{layer}.output.LayerNorm.weight"),
                          self.weight(f"{layer}.output.LayerNorm.bias"),
                          self.config.layer_norm_eps)

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Last hidden state, shape [batch, seq_len, hidden]."""
        # Padding keys get a large negative score, so softmax gives them 0.
        mask_bias = np.where(attention_mask[:, None, None, :] > 0, 0.0, -1e9).astype(self.dtype)
        x = self.embed(input_ids)
        for i in range(self.config.num_layers):
            layer = f"encoder.layer.{i}"
            x = self.attention(x, mask_bias, layer)
            x = self.feed_forward(x, layer)
        return x


# ---------------------------------------------------------------------------
# Sentence embedding
# ---------------------------------------------------------------------------


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    mask = attention_mask[:, :, None].astype(hidden.dtype)
    summed = (hidden * mask).sum(axis=1)
    counts = np.maximum(mask.sum(axis=1), 1e-9)
    return summed / counts


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def pad_batch(batch_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad with id 0 ([PAD]) and build the matching attention mask."""
    width = max(len(ids) for ids in batch_ids)
    input_ids = np.zeros((len(batch_ids), width), dtype=np.int64)
    mask = np.zeros((len(batch_ids), width), dtype=np.int64)
    for row, ids in enumerate(batch_ids):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask


def embed_token_ids(model: BertModel, all_ids: list[list[int]], batch_size: int) -> np.ndarray:
    out = []
    for start in range(0, len(all_ids), batch_size):
        input_ids, mask = pad_batch(all_ids[start : start + batch_size])
        hidden = model.forward(input_ids, mask)
        out.append(l2_normalize(mean_pool(hidden, mask)))
    return np.concatenate(out, axis=0)


def read_max_seq_length(model_dir: Path) -> int:
    path = model_dir / "sentence_bert_config.json"
    if path.exists():
        return int(json.loads(path.read_text(encoding="utf-8"))["max_seq_length"])
    return DEFAULT_MAX_SEQ_LENGTH


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def read_sentences(args: argparse.Namespace) -> list[str]:
    if args.input is None:
        return list(args.sentences)
    if args.input == "-":
        text = sys.stdin.read()
    else:
        text = Path(args.input).read_text(encoding="utf-8")
    # One sentence per line, taken verbatim (split on "\n" only, one trailing
    # "\r" dropped, no final empty line), the way Rust's str::lines reads it.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", required=True, type=Path,
                   help="folder with config.json, model.safetensors, vocab.txt, tokenizer.json")
    p.add_argument("--input", help="file with one sentence per line ('-' for stdin)")
    p.add_argument("--tokens", action="store_true", help="also print the WordPiece token strings")
    p.add_argument("--tokens-only", action="store_true", help="tokenise only, do not run the model")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="arithmetic precision (default float32, as PyTorch runs the model)")
    p.add_argument("--max-seq-length", type=int, default=None,
                   help="override max_seq_length from sentence_bert_config.json (default 256)")
    p.add_argument("--batch-size", type=int, default=1,
                   help="sentences per forward pass; >1 pads and relies on the attention mask")
    p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    p.add_argument("sentences", nargs="*")
    args = p.parse_args(argv)
    if (args.input is None) == (not args.sentences):
        p.error("give either SENTENCE arguments or --input FILE")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    sentences = read_sentences(args)
    max_len = args.max_seq_length or read_max_seq_length(args.model_dir)

    tokenizer = BertTokenizer.from_model_dir(args.model_dir)
    token_ids = [tokenizer.encode(s, max_len) for s in sentences]

    result: dict = {"model": MODEL_NAME, "dtype": args.dtype, "max_seq_length": max_len}
    if not args.tokens_only:
        dtype = np.dtype(args.dtype)
        model = BertModel.from_model_dir(args.model_dir, dtype)
        embeddings = embed_token_ids(model, token_ids, max(args.batch_size, 1))
        result["embeddings"] = [[float(v) for v in row] for row in embeddings]
    result["token_ids"] = token_ids
    if args.tokens or args.tokens_only:
        result["tokens"] = [tokenizer.ids_to_tokens(ids) for ids in token_ids]

    json.dump(result, sys.stdout, ensure_ascii=False, indent=args.indent)
    sys.stdout.write("\n")
    print(f"minilm_reference: {len(sentences)} sentence(s) in "
          f"{time.perf_counter() - started:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
