"""Bad input gets the hosted API's status and a readable message, stores nothing, breaks nothing.

One test per row of ``bad_inputs.CASES`` (the table the README shows).
"""

from __future__ import annotations

import pytest

from .bad_inputs import CASES, readable, run_case


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_cleanly(case, target):
    outcome = run_case(case, target)
    answer = outcome.answer

    assert answer.status in case.expected, (
        f"{case.what}: got {answer.status} {answer.body!r:.300}, expected {case.expected}")
    if case.detail_status is not None:
        assert answer.detail_status == case.detail_status
    if not case.accepted:
        assert readable(answer.message), f"unreadable error message: {answer.message!r:.300}"
        assert answer.shaped, f"not the API's error shape: {answer.body!r:.300}"
        assert outcome.new_files == set(), f"a refused request stored {outcome.new_files}"
    assert outcome.new_takes == case.takes
    assert outcome.new_voices == 0
    assert outcome.healthy, "the server stopped answering after this request"
