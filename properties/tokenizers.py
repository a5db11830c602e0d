"""Tokenizers (Module 10): adapter helpers, strategies and laws.

There is no torch oracle for a tokenizer; the laws are its definition, stated so that they
hold for upstream TinyTorch's tokenizers as well as the bundled ones:

* ``CharTokenizer``: one id per character, ``decode(encode(s)) == s`` over the vocabulary's
  characters (spaces included); an unknown character encodes to the unknown id (the id that
  decodes to ``<UNK>``, else 0) and every vocabulary character has its own id, not that one.
* ``BPETokenizer``: ``decode(encode(s)) == s`` for single-spaced words over the training
  symbols; never more tokens than characters; ``encode`` is the closed form (the target's own
  ``merges`` applied in order to each word's characters, the last one marked ``</w>``, mapped
  through its vocabulary); and training is BPE: replayed on the corpus, each merge was a most
  frequent adjacent pair at its step, each merge added one token, and training stopped at
  ``vocab_size`` or when no pair was left.

Conventions absorbed (both are BPE): pairs counted at every occurrence (the bundled
tokenizer) or once per word containing them (upstream's ``_get_pairs`` returns a set), each
weighted by the word's frequency; ties broken any way. Upstream's ``train`` counts corpus
entries as words without splitting them, so BPE corpora are lists of single words, on which
both readings agree. Strategies draw everything (no seeds); examples are a few short words
over ``abcd`` so that pairs repeat, tie and chain into long merges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from properties.report import fail

UNK = "<UNK>"
END = "</w>"
ALPHABET = "abcd"
UNKNOWN = "xyz!é\t"  # never in a drawn corpus
MERGES = "core.tokenization.BPETokenizer.merges"
VOCAB = "core.tokenization.BPETokenizer.vocab"


# ----------------------------------------------------------------------------- adapter

def char_tokenizer(tt: Any, corpus: Sequence[str]) -> Any:
    """A ``CharTokenizer`` over ``corpus``: ``build_vocab(corpus)`` where the target has it,
    else ``CharTokenizer(vocab=sorted(chars))``."""
    tokenizer = tt.make("CharTokenizer")
    if callable(getattr(tokenizer, "build_vocab", None)):
        tokenizer.build_vocab(list(corpus))
        return tokenizer
    return tt.make("CharTokenizer", sorted({c for text in corpus for c in text}))


def bpe_tokenizer(tt: Any, corpus: Sequence[str], vocab_size: int) -> Any:
    """``BPETokenizer(vocab_size)`` trained on ``corpus``."""
    tokenizer = tt.make("BPETokenizer", vocab_size)
    tokenizer.train(list(corpus))
    return tokenizer


def unknown_id(tokenizer: Any, size: int) -> int:
    """The id that decodes to ``<UNK>`` (the first, among ``0..size-1``), else 0."""
    for i in range(size):
        try:
            if tokenizer.decode([i]) == UNK:
                return i
        except Exception:  # noqa: BLE001 - an id it rejects is not the unknown id
            continue
    return 0


def token_ids(tt: Any, tokenizer: Any) -> dict[str, int]:
    """The BPE vocabulary as token -> id: ``token_to_id``, or ``vocab.index``."""
    mapping = getattr(tokenizer, "token_to_id", None)
    if isinstance(mapping, dict) and mapping:
        return dict(mapping)
    vocab = list(tt.need_attribute(tokenizer, "vocab", VOCAB))
    return {token: i for i, token in reversed(list(enumerate(vocab)))}


def word_symbols(word: str) -> list[str]:
    """A word's initial BPE symbols: its characters, the last one marked ``</w>``."""
    return [*word[:-1], word[-1] + END]


def merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """One merge, left to right, non-overlapping (``a a a`` by ``(a, a)`` is ``aa a``)."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def pair_counts(split: dict[str, list[str]], freq: Counter[str]
                ) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Adjacent-pair counts weighted by word frequency: (every occurrence, once per word)."""
    every: Counter[tuple[str, str]] = Counter()
    once: Counter[tuple[str, str]] = Counter()
    for word, symbols in split.items():
        pairs = list(zip(symbols, symbols[1:]))
        for pair in pairs:
            every[pair] += freq[word]
        for pair in set(pairs):
            once[pair] += freq[word]
    return every, once


# ----------------------------------------------------------------------------- strategies

char_corpora = st.lists(st.text(ALPHABET + " ", min_size=1, max_size=8), min_size=1,
                        max_size=4)
"""Corpora for the character tokenizer: a few short texts over ``abcd`` and the space."""


def _alphabet(corpus: Sequence[str]) -> list[str]:
    return sorted({c for text in corpus for c in text})


def char_texts(corpus: Sequence[str]) -> st.SearchStrategy[str]:
    """Texts over the characters of ``corpus`` (spaces included when it has them)."""
    return st.text(st.sampled_from(_alphabet(corpus)), max_size=12)


@st.composite
def char_texts_with_unknowns(draw: st.DrawFn, corpus: Sequence[str]) -> str:
    """Texts mixing the corpus's characters with at least one character it lacks."""
    chars = draw(st.lists(st.sampled_from(_alphabet(corpus) + list(UNKNOWN)), max_size=10),
                 label="characters")
    at = draw(st.integers(0, len(chars)), label="unknown character's position")
    chars.insert(at, draw(st.sampled_from(UNKNOWN), label="unknown character"))
    return "".join(chars)


words = st.text(ALPHABET, min_size=1, max_size=6)


@st.composite
def bpe_corpora(draw: st.DrawFn) -> list[str]:
    """A corpus of single words: 3-7 distinct words, each 1-6 times, shuffled, so that word
    frequency decides which pair is most frequent. (Fewer distinct words let frequency decide
    too seldom: a trainer that ignores it then survives 30 examples on some seeds.)"""
    distinct = draw(st.lists(words, min_size=3, max_size=7, unique=True), label="distinct words")
    counts = draw(st.lists(st.integers(1, 6), min_size=len(distinct), max_size=len(distinct)),
                  label="frequencies")
    return draw(st.permutations([w for w, k in zip(distinct, counts) for _ in range(k)]),
                label="corpus")


def vocab_sizes(corpus: Sequence[str]) -> st.SearchStrategy[int]:
    """From just below the initial vocabulary (the symbols and ``<UNK>``: no merge at all) to
    30 merges past it, which is past the last merge available for most corpora."""
    initial = 1 + len({s for w in corpus for s in word_symbols(w)})
    return st.integers(max(2, initial - 2), initial + 30)


@st.composite
def bpe_texts(draw: st.DrawFn, corpus: Sequence[str]) -> str:
    """1-4 words joined by single spaces, each a corpus word or a new word over the training
    symbols (characters seen inside a word, then one seen at a word's end)."""
    inner = "".join(sorted({c for w in corpus for c in w[:-1]}))
    ends = sorted({w[-1] for w in corpus})
    fresh = st.builds(lambda body, end: body + end,
                      st.text(inner, max_size=5) if inner else st.just(""), st.sampled_from(ends))
    return " ".join(draw(st.lists(st.one_of(st.sampled_from(sorted(set(corpus))), fresh),
                                  min_size=1, max_size=4), label="words"))


@st.composite
def bpe_cases(draw: st.DrawFn) -> tuple[list[str], int, str]:
    """A corpus, a vocabulary size for it and a text over its symbols, drawn in that order."""
    corpus = draw(bpe_corpora())
    return corpus, draw(vocab_sizes(corpus), label="vocab_size"), draw(bpe_texts(corpus))


# ----------------------------------------------------------------------------- laws

def _first_difference(a: Sequence[Any], b: Sequence[Any]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"  first difference at position {i}: got {x!r}, want {y!r}"
    return f"  lengths differ: got {len(a)}, want {len(b)}"


def char_round_trip(tt: Any, corpus: Sequence[str], text: str) -> None:
    """One id per character, and ``decode(encode(text)) == text``."""
    tokenizer = char_tokenizer(tt, corpus)
    ids = list(tokenizer.encode(text))
    back = tokenizer.decode(ids)
    case = f"  corpus: {list(corpus)!r}\n  text: {text!r}\n  ids: {ids}"
    if len(ids) != len(text):
        fail("CharTokenizer", "round trip", f"encode gave {len(ids)} ids for {len(text)} "
             "characters (one id per character)", None, case)
    if back != text:
        fail("CharTokenizer", "round trip", "decode(encode(text)) != text", None,
             f"{case}\n  decoded: {back!r}\n{_first_difference(back, text)}")


def char_unknowns_and_distinct_ids(tt: Any, corpus: Sequence[str], text: str) -> None:
    """Every vocabulary character has its own id, not the unknown id; each character of
    ``text`` the corpus lacks encodes to the unknown id and decodes to ``<UNK>``."""
    tokenizer = char_tokenizer(tt, corpus)
    alphabet = _alphabet(corpus)
    vocab = getattr(tokenizer, "vocab", None)
    unk = unknown_id(tokenizer, len(vocab) if vocab is not None else len(alphabet) + 1)
    known = list(tokenizer.encode("".join(alphabet)))
    table = dict(zip(alphabet, known))
    case = (f"  corpus: {list(corpus)!r}\n  unknown id: {unk} (decodes to "
            f"{tokenizer.decode([unk])!r})\n  vocabulary ids: {table}")
    clashes = [c for c in alphabet if table.get(c) == unk]
    if len(known) != len(alphabet) or len(set(known)) != len(known) or clashes:
        fail("CharTokenizer", "vocabulary ids", "vocabulary characters do not have distinct "
             "ids of their own" + (f": {clashes} share the unknown id" if clashes else ""),
             None, case)
    ids = list(tokenizer.encode(text))
    want = [table.get(c, unk) for c in text]
    case += f"\n  text: {text!r}\n  ids: {ids}\n  want: {want}"
    if ids != want:
        fail("CharTokenizer", "unknown characters", "an unknown character does not encode "
             "to the unknown id (or a known one not to its own)", None,
             f"{case}\n{_first_difference(ids, want)}")
    back = tokenizer.decode(ids)
    expected = "".join(c if c in table else UNK for c in text)
    if back != expected:
        fail("CharTokenizer", "unknown characters", "decode does not give <UNK> for the "
             "unknown id and the text for the rest", None,
             f"{case}\n  decoded: {back!r}\n  want: {expected!r}")


def _bpe_case(corpus: Sequence[str], vocab_size: int, tokenizer: Any) -> str:
    merges = getattr(tokenizer, "merges", "(none)")
    return (f"  corpus: {list(corpus)!r}, vocab_size={vocab_size}\n"
            f"  vocab: {list(getattr(tokenizer, 'vocab', []))!r}\n  merges: {merges!r}")


def _tokens(tokenizer: Any, ids: Sequence[int]) -> list[Any]:
    vocab = list(getattr(tokenizer, "vocab", []))
    return [vocab[i] if isinstance(i, int) and 0 <= i < len(vocab) else "?" for i in ids]


def bpe_round_trip(tt: Any, corpus: Sequence[str], vocab_size: int, text: str) -> None:
    """``decode(encode(text)) == text`` for single-spaced words over the training symbols."""
    tokenizer = bpe_tokenizer(tt, corpus, vocab_size)
    ids = list(tokenizer.encode(text))
    back = tokenizer.decode(ids)
    if back != text:
        fail("BPETokenizer", "round trip", "decode(encode(text)) != text", None,
             f"{_bpe_case(corpus, vocab_size, tokenizer)}\n  text: {text!r}\n  ids: {ids} = "
             f"{_tokens(tokenizer, ids)}\n  decoded: {back!r}\n{_first_difference(back, text)}")


def bpe_no_longer_than_chars(tt: Any, corpus: Sequence[str], vocab_size: int,
                             text: str) -> None:
    """BPE never needs more tokens than the character tokenizer (built on the same corpus)
    needs for the same text, less its separators: a token is at least one character."""
    tokenizer = bpe_tokenizer(tt, corpus, vocab_size)
    chars = char_tokenizer(tt, corpus)
    ids, char_ids = list(tokenizer.encode(text)), list(chars.encode(text))
    bound = len(char_ids) - text.count(" ")
    if len(ids) > bound:
        fail("BPETokenizer", "length", f"BPE gave {len(ids)} tokens, more than the "
             f"{bound} characters of the words ({len(char_ids)} character ids with the spaces)",
             None, f"{_bpe_case(corpus, vocab_size, tokenizer)}\n  text: {text!r}\n"
                   f"  BPE ids: {ids} = {_tokens(tokenizer, ids)}\n  character ids: {char_ids}")


def bpe_encoding(merges: Sequence[tuple[str, str]], ids: dict[str, int], text: str
                 ) -> tuple[list[str], list[int]]:
    """The closed form: each word's symbols merged by ``merges`` in order, then mapped to ids
    (a token outside the vocabulary to 0, the unknown id)."""
    tokens: list[str] = []
    for word in text.split():
        symbols = word_symbols(word)
        for pair in merges:
            symbols = merge(symbols, pair)
        tokens.extend(symbols)
    return tokens, [ids.get(t, 0) for t in tokens]


def bpe_closed_form(tt: Any, corpus: Sequence[str], vocab_size: int, text: str) -> None:
    """``encode(text)`` applies the target's own merges in learned order to each word."""
    tokenizer = bpe_tokenizer(tt, corpus, vocab_size)
    merges = [tuple(m) for m in tt.need_attribute(tokenizer, "merges", MERGES)]
    tokens, want = bpe_encoding(merges, token_ids(tt, tokenizer), text)
    ids = list(tokenizer.encode(text))
    if ids != want:
        fail("BPETokenizer", "closed form", "encode does not apply the learned merges in "
             "order", None,
             f"{_bpe_case(corpus, vocab_size, tokenizer)}\n  text: {text!r}\n"
             f"  ids: {ids} = {_tokens(tokenizer, ids)}\n  want: {want} = {tokens}\n"
             f"{_first_difference(ids, want)}")


def bpe_training(tt: Any, corpus: Sequence[str], vocab_size: int) -> None:
    """Replayed on the corpus, each merge was a most frequent adjacent pair (by word
    frequency) at its step; the vocabulary is the initial symbols (and ``<UNK>``) followed by
    one token per merge; training stopped at ``vocab_size`` or when no pair was left."""
    tokenizer = bpe_tokenizer(tt, corpus, vocab_size)
    merges = [tuple(m) for m in tt.need_attribute(tokenizer, "merges", MERGES)]
    vocab = list(tt.need_attribute(tokenizer, "vocab", VOCAB))
    case = _bpe_case(corpus, vocab_size, tokenizer)
    freq = Counter(w for text in corpus for w in text.split())
    split = {w: word_symbols(w) for w in freq}
    initial = {s for symbols in split.values() for s in symbols}
    for step, pair in enumerate(merges):
        every, once = pair_counts(split, freq)
        if not every:
            fail("BPETokenizer", "training", f"merge {step} {pair!r} was learned with no "
                 "adjacent pair left", None, case)
        if not any(counts[pair] == max(counts.values()) for counts in (every, once)):
            top = max(every.values())
            fail("BPETokenizer", "training", f"merge {step} {pair!r} was not a most frequent "
                 "adjacent pair", None,
                 f"{case}\n  words (frequency): {dict(freq)}\n  symbols before merge {step}: "
                 f"{split}\n  {pair!r} occurs {every[pair]} times ({once[pair]} by words); "
                 f"the most frequent: {[p for p in every if every[p] == top]} ({top} times)")
        split = {w: merge(symbols, pair) for w, symbols in split.items()}
    start = len(vocab) - len(merges)
    added = vocab[max(start, 0):]
    if start < 0 or added != [a + b for a, b in merges]:
        fail("BPETokenizer", "training", "the vocabulary does not end with one new token per "
             "merge, in merge order", None,
             f"{case}\n  last {len(merges)} tokens: {added}\n"
             f"  merged tokens: {[a + b for a, b in merges]}")
    if set(vocab[:start]) - {UNK} != initial:
        fail("BPETokenizer", "training", "the initial vocabulary is not the corpus's symbols "
             "(characters, a word's last one with </w>)", None,
             f"{case}\n  initial vocabulary: {sorted(vocab[:start])}\n"
             f"  symbols: {sorted(initial)}")
    left = any(len(symbols) > 1 for symbols in split.values())
    if merges and len(vocab) > vocab_size:
        fail("BPETokenizer", "training", f"training went past vocab_size: {len(vocab)} tokens",
             None, case)
    if len(vocab) < vocab_size and left:
        fail("BPETokenizer", "training", f"training stopped at {len(vocab)} tokens, short of "
             f"vocab_size, with pairs left to merge", None, f"{case}\n  symbols: {split}")
