"""Tokenizers (Module 10) by their laws, there being no torch tokenizer to compare with: the
character tokenizer round-trips and maps unknown characters to its unknown id; BPE
round-trips, never emits more tokens than characters, encodes by its own merges in learned
order, and learns each merge as a most frequent pair. The laws are in
:mod:`properties.tokenizers`; these are their bindings to generated corpora and texts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties import target
from properties import tokenizers as T

pytestmark = pytest.mark.plan("10:core", "10:edge_cases", "10:shapes", "10:api_consistency")


@given(corpus=T.char_corpora, data=st.data())
def test_char_tokenizer_round_trips_text_over_its_vocabulary(corpus, data):
    T.char_round_trip(target.get(), corpus, data.draw(T.char_texts(corpus), label="text"))


@given(corpus=T.char_corpora, data=st.data())
def test_char_tokenizer_maps_unknown_characters_to_the_unknown_id(corpus, data):
    text = data.draw(T.char_texts_with_unknowns(corpus), label="text")
    T.char_unknowns_and_distinct_ids(target.get(), corpus, text)


@given(case=T.bpe_cases())
def test_bpe_round_trips_single_spaced_words(case):
    T.bpe_round_trip(target.get(), *case)


@given(case=T.bpe_cases())
def test_bpe_never_needs_more_tokens_than_characters(case):
    T.bpe_no_longer_than_chars(target.get(), *case)


@given(case=T.bpe_cases())
def test_bpe_encodes_by_its_merges_in_learned_order(case):
    T.bpe_closed_form(target.get(), *case)


@given(corpus=T.bpe_corpora(), data=st.data())
def test_bpe_learns_most_frequent_pairs_one_token_each(corpus, data):
    vocab_size = data.draw(T.vocab_sizes(corpus), label="vocab_size")
    T.bpe_training(target.get(), corpus, vocab_size)
