"""The stream-input text buffer keeps a break tag whole, however the client's messages cut it."""

from __future__ import annotations

from xiwidgets.server.routes._text_buffer import TextBuffer


def test_a_tag_being_sent_does_not_end_the_sentence():
    buffer = TextBuffer(limit=1000)
    buffer.append('Hold on. <break time="1.')
    assert not buffer.ends_sentence  # the "." is the tag's, still open
    buffer.append('5s"/> Go on.')
    assert buffer.ends_sentence


def test_a_piece_released_early_never_ends_inside_a_tag():
    buffer = TextBuffer(limit=1000)
    buffer.append('Hold on, please, for a little while. <break time="1.5s" ')
    piece = buffer.take(everything=False)
    assert piece == "Hold on, please, for a little while. "
    buffer.append("/> Go on.")
    assert buffer.take(everything=True) == '<break time="1.5s" /> Go on.'


def test_text_that_only_looks_like_a_tag_is_released_as_before():
    buffer = TextBuffer(limit=1000)
    buffer.append("Is 2 < 3? Yes. ")
    assert buffer.ends_sentence
    assert buffer.take(everything=False) == "Is 2 < 3? Yes. "
