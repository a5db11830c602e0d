"""The tokenizer catalog: BPE and character-tokenizer bugs. ``tests/test_tokenizers.py`` must
kill them through the laws of :mod:`properties.tokenizers`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from properties.mutation import mutant


def _merges_reversed(orig: Any) -> Any:
    def encode(self: Any, text: str) -> list[int]:
        learned = self.merges
        self.merges = list(learned)[::-1]  # the last merge learned is applied first
        try:
            return orig(self, text)
        finally:
            self.merges = learned

    return encode


mutant("bpe_merge_order_wrong", "tokenizers",
       "BPETokenizer.encode applies the learned merges in reverse order",
       tokenization__BPETokenizer__encode=_merges_reversed)


def _decode_without_separator(orig: Any) -> Any:
    def decode(self: Any, tokens: Sequence[int]) -> str:
        return "".join(self.id_to_token[int(t)] for t in tokens).replace("</w>", "")

    return decode


mutant("bpe_decode_drops_word_separator", "tokenizers",
       "BPETokenizer.decode strips </w> instead of turning it into a space: words run together",
       tokenization__BPETokenizer__decode=_decode_without_separator)


def _train_on_distinct_words(orig: Any) -> Any:
    def train(self: Any, corpus: Sequence[str], vocab_size: int | None = None) -> None:
        texts = [corpus] if isinstance(corpus, str) else corpus
        distinct = list(dict.fromkeys(w for text in texts for w in text.split()))
        return orig(self, distinct, vocab_size)  # pairs counted once per distinct word

    return train


mutant("bpe_train_ignores_word_frequency", "tokenizers",
       "BPETokenizer.train counts pairs over the set of words: a word's frequency is ignored",
       tokenization__BPETokenizer__train=_train_on_distinct_words)


def _encode_off_by_one(orig: Any) -> Any:
    def encode(self: Any, text: str) -> list[int]:
        return [i + 1 for i in orig(self, text)]  # ids counted from 1 past <UNK>'s 0

    return encode


mutant("char_encode_off_by_one", "tokenizers",
       "CharTokenizer.encode gives every character the id one past its own",
       tokenization__CharTokenizer__encode=_encode_off_by_one)


def _vocab_without_unknown(orig: Any) -> Any:
    def build_vocab(self: Any, corpus: Sequence[str]) -> None:
        orig(self, corpus)
        chars = [c for c in self.vocab if c != "<UNK>"]  # <UNK> forgotten: 'a' takes id 0
        self.vocab, self.vocab_size = chars, len(chars)
        self.char_to_id = {c: i for i, c in enumerate(chars)}
        self.id_to_char = dict(enumerate(chars))

    return build_vocab


mutant("char_vocab_without_unknown", "tokenizers",
       "CharTokenizer.build_vocab forgets <UNK>: the first character takes id 0, the unknown "
       "id, so unknown characters decode as it",
       tokenization__CharTokenizer__build_vocab=_vocab_without_unknown)
