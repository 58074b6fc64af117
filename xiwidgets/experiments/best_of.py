"""Best of N: several takes of one text with different seeds, scored, the best one kept."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from xiwidgets.client.errors import XIError
from xiwidgets.experiments.metrics import METRICS, _metric_list, evaluate
from xiwidgets.experiments.ranking import best_index

if TYPE_CHECKING:
    import pandas

    from xiwidgets.client.types import Take

_MAX_SEED = 4_294_967_295  # the API's seed is a 32-bit unsigned integer


class BestOf(NamedTuple):
    """What :func:`best_of` returns: unpack it as ``take, candidates = ...``."""

    take: Take
    candidates: pandas.DataFrame


def _seeds(n: Any, seeds: Sequence[int] | None) -> list[int]:
    if seeds is not None:
        chosen = list(seeds)
        if not chosen or len(set(chosen)) != len(chosen):
            raise ValueError("seeds must be distinct, and at least one.")
        return chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of takes, not {n!r}.")
    return random.sample(range(_MAX_SEED + 1), n)


def best_of(make: Callable[..., Take], text: str, n: int = 4, by: str = "wer", *,
            seeds: Sequence[int] | None = None, metrics: Iterable[str] | None = None,
            max_concurrency: int = 2, **request: Any) -> BestOf:
    """See :meth:`xiwidgets.client.tts.TextToSpeech.best_of`; ``make`` makes one take."""
    chosen = _seeds(n, seeds)
    if by not in METRICS or METRICS[by].higher_is_better is None:
        ranked = [name for name, m in METRICS.items() if m.higher_is_better is not None]
        raise ValueError(f"best_of cannot rank takes by {by!r}: use by= one of "
                         f"{', '.join(ranked)}.")
    names = list(dict.fromkeys([by, *(metrics or ())]))
    _metric_list(names)  # unknown metrics and missing packages fail before anything is billed
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")

    def one(seed: int) -> Take | XIError:
        try:
            return make(text, seed=seed, **request)
        except XIError as error:  # the other candidates are billed already: keep them
            return error

    with ThreadPoolExecutor(max_workers=min(len(chosen), max_concurrency),
                            thread_name_prefix="xiwidgets-best-of") as pool:
        outcomes = list(pool.map(one, chosen))
    takes = [t for t in outcomes if not isinstance(t, XIError)]
    if not takes:
        raise next(o for o in outcomes if isinstance(o, XIError))
    scores = evaluate(takes, texts=[text] * len(takes), metrics=names)
    scores.insert(0, "seed", [t.seed for t in takes])
    scores.insert(1, "request_id", [t.request_id for t in takes])
    scores.insert(2, "history_item_id", [t.history_item_id for t in takes])
    scores.insert(3, "character_cost", [t.character_cost for t in takes])
    failures = [(seed, o) for seed, o in zip(chosen, outcomes, strict=True)
                if isinstance(o, XIError)]
    if failures:
        import pandas as pd

        failed = pd.DataFrame({"seed": [s for s, _ in failures],
                               "error": [str(e) for _, e in failures]})
        scores = pd.concat([scores, failed], ignore_index=True)
    winner = best_index(scores, by)
    scores["best"] = scores.index == winner
    return BestOf(takes[int(winner)], scores)
