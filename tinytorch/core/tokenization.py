"""Tokenizers (upstream's ``tinytorch.core.tokenization``): text to integer ids and back.

``CharTokenizer`` maps each character to an id; ``BPETokenizer`` learns merges of frequent
adjacent symbols (byte-pair encoding over characters, a word ending marked by ``</w>``), so a
frequent word becomes one token. Both keep upstream's one special token, ``<UNK>`` at id 0:
an unknown character encodes to it, and it decodes to the text ``<UNK>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

UNK = "<UNK>"
END = "</w>"


class Tokenizer:
    """The interface: ``encode(text) -> list[int]`` and ``decode(ids) -> str``."""

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, tokens: Sequence[int]) -> str:
        raise NotImplementedError


def _ids(tokens: Iterable[int], size: int) -> list[int]:
    ids = [int(t) for t in tokens]
    bad = [t for t in ids if not 0 <= t < size]
    if bad:
        raise IndexError(f"token id {bad[0]} is out of range for a vocabulary of {size}")
    return ids


class CharTokenizer(Tokenizer):
    """One id per character: ``<UNK>`` is 0, then the characters of ``vocab`` in order (or
    of the corpus given to :meth:`build_vocab`, sorted)."""

    def __init__(self, vocab: Sequence[str] | None = None) -> None:
        self._set_vocab(list(vocab or []))

    def _set_vocab(self, chars: list[str]) -> None:
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer: the vocabulary must be single characters")
        self.vocab = [UNK] + list(dict.fromkeys(chars))
        self.vocab_size = len(self.vocab)
        self.char_to_id = {c: i for i, c in enumerate(self.vocab)}
        self.id_to_char = dict(enumerate(self.vocab))
        self.unk_id = 0

    def build_vocab(self, corpus: Sequence[str]) -> None:
        if isinstance(corpus, str):
            corpus = [corpus]
        self._set_vocab(sorted({c for text in corpus for c in text}))

    def encode(self, text: str) -> list[int]:
        return [self.char_to_id.get(c, self.unk_id) for c in text]

    def decode(self, tokens: Sequence[int]) -> str:
        return "".join(self.id_to_char[t] for t in _ids(tokens, self.vocab_size))


class BPETokenizer(Tokenizer):
    """Byte-pair encoding over characters. :meth:`train` starts from the characters of the
    corpus's words (each word's last one marked ``</w>``) and repeatedly merges the most
    frequent adjacent pair (ties: the pair seen first), until the vocabulary has
    ``vocab_size`` tokens or no pair is left. Encoding applies the merges in the order they
    were learned; decoding joins the tokens, a ``</w>`` becoming a space between words."""

    def __init__(self, vocab_size: int = 1000) -> None:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"BPETokenizer: vocab_size must be an int >= 2, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.vocab: list[str] = []
        self.merges: list[tuple[str, str]] = []
        self.token_to_id: dict[str, int] = {}
        self.id_to_token: dict[int, str] = {}

    @staticmethod
    def _symbols(word: str) -> list[str]:
        return [*word[:-1], word[-1] + END]

    @staticmethod
    def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
        out, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                out.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        return out

    def train(self, corpus: Sequence[str], vocab_size: int | None = None) -> None:
        if isinstance(corpus, str):
            corpus = [corpus]
        target = self.vocab_size if vocab_size is None else vocab_size
        words = Counter(w for text in corpus for w in text.split())
        if not words:
            raise ValueError("BPETokenizer.train: the corpus has no words")
        split = {w: self._symbols(w) for w in words}
        vocab = [UNK] + sorted({s for symbols in split.values() for s in symbols})
        self.merges = []
        while len(vocab) < target:
            pairs: Counter[tuple[str, str]] = Counter()
            for w, symbols in split.items():
                for pair in zip(symbols, symbols[1:]):
                    pairs[pair] += words[w]
            if not pairs:
                break
            best = max(pairs, key=lambda p: pairs[p])  # first seen among the most frequent
            self.merges.append(best)
            vocab.append(best[0] + best[1])
            split = {w: self._merge(symbols, best) for w, symbols in split.items()}
        self.vocab = vocab
        self.token_to_id = {t: i for i, t in enumerate(vocab)}
        self.id_to_token = dict(enumerate(vocab))

    def encode(self, text: str) -> list[int]:
        ids = []
        for word in text.split():
            symbols = self._symbols(word)
            for pair in self.merges:
                symbols = self._merge(symbols, pair)
            ids.extend(self.token_to_id.get(s, 0) for s in symbols)
        return ids

    def decode(self, tokens: Sequence[int]) -> str:
        text = "".join(self.id_to_token[t] for t in _ids(tokens, len(self.vocab)))
        return " ".join(text.replace(END, " ").split())
