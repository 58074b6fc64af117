"""Account: user, subscription (the character quota) and usage statistics."""

from __future__ import annotations

import bisect
import calendar
import sqlite3
import time
from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.dependencies import ConcurrencyDep, ConfigDep, StoreDep
from xiwidgets.server.errors import APIError
from xiwidgets.server.store import Store

router = APIRouter(tags=["user"])

INTERVAL_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000}
MAX_BUCKETS = 10_000
# The end of year 9999 in milliseconds: larger values are no date Python or SQLite can hold.
MAX_YEAR = 9999
MAX_UNIX_MS = 253_402_300_799_999
UnixMs = Annotated[int, Query(ge=0, le=MAX_UNIX_MS, description="UTC milliseconds")]
Breakdown = Literal[
    "none", "voice", "voice_multiplier", "user", "groups", "api_keys", "all_api_keys",
    "product_type", "model", "resource", "request_queue", "region", "subresource_id",
    "reporting_workspace_id", "has_api_key",
]
Metric = Literal[
    "credits", "minutes_used", "request_count", "ttfb_avg", "ttfb_p95", "fiat_units_spent",
    "concurrency", "concurrency_average",
]


def _subscription(store: Store, config: ServerConfig,
                  concurrency: Concurrency) -> dict[str, Any]:
    account = store.account()
    return {
        # Local fields (the hosted API's say nothing of concurrency here): how many takes run at
        # once and whether more are refused (429) or wait.
        "max_concurrent_requests": concurrency.maximum,
        "max_concurrent_syntheses": concurrency.synthesis_slots.limit,
        "refuses_past_maximum": concurrency.max_requests is not None,
        "tier": "local",
        "character_count": account["character_count"],
        "character_limit": account["character_limit"],
        "max_character_limit_extension": None,
        "can_extend_character_limit": False,
        "allowed_to_extend_character_limit": False,
        "next_character_count_reset_unix": account["next_reset_unix"],
        "voice_slots_used": store.count_voices(),
        "professional_voice_slots_used": 0,
        "voice_limit": config.max_cloned_voices,
        "max_voice_add_edits": None,
        "voice_add_edit_counter": 0,
        "professional_voice_limit": 0,
        "can_extend_voice_limit": False,
        "can_use_instant_voice_cloning": True,
        "can_use_professional_voice_cloning": False,
        "currency": None,
        "status": "active",
        "billing_period": "monthly_period",
        "character_refresh_period": "monthly_period",
    }


@router.get("/v1/user/subscription", dependencies=API_KEY_REQUIRED)
def get_subscription(store: StoreDep, config: ConfigDep,
                     concurrency: ConcurrencyDep) -> dict[str, Any]:
    """The character quota of this server's single account, and its concurrency."""
    return {
        **_subscription(store, config, concurrency),
        "next_invoice": None,
        "has_open_invoices": False,
        "pending_change": None,
    }


@router.get("/v1/user", dependencies=API_KEY_REQUIRED)
def get_user(store: StoreDep, config: ConfigDep, concurrency: ConcurrencyDep) -> dict[str, Any]:
    """This server's single user."""
    account = store.account()
    return {
        "user_id": account["user_id"],
        "subscription": _subscription(store, config, concurrency),
        "subscription_extras": {
            "concurrency": concurrency.maximum,
            "convai_concurrency": 0,
            "force_logging_disabled": False,
            "can_request_manual_pro_voice_verification": False,
            "can_bypass_voice_captcha": False,
            "moderation": {
                "is_in_probation": False,
                "enterprise_check_nogo_voice": False,
                "enterprise_check_block_nogo_voice": False,
                "never_live_moderate": False,
                "nogo_voice_similar_voice_upload_count": 0,
                "enterprise_background_moderation_enabled": False,
                "safety_status": None,
                "warning_status": None,
                "on_watchlist": False,
            },
        },
        "is_new_user": False,
        "xi_api_key": None,
        "can_use_delayed_payment_methods": False,
        "is_onboarding_completed": True,
        "is_onboarding_checklist_completed": True,
        "first_name": None,
        "is_api_key_hashed": True,
        "xi_api_key_preview": None,
        "referral_link_code": None,
        "partnerstack_partner_default_link": None,
        "created_at": account["created_at_unix"],
        "seat_type": "workspace_admin",
    }


def bucket_starts(
    start_ms: int, end_ms: int, interval: str, bucket_size_s: int | None
) -> list[int]:
    """Starts of the aggregation buckets covering ``[start_ms, end_ms)``, in ms (UTC)."""
    if interval == "cumulative" and not bucket_size_s:
        return [start_ms]
    if interval == "month" and not bucket_size_s:
        moment = time.gmtime(start_ms / 1000)
        year, month = moment.tm_year, moment.tm_mon
        starts: list[int] = []
        while year <= MAX_YEAR:
            first = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
            if first >= end_ms or len(starts) > MAX_BUCKETS:
                break
            starts.append(first)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return starts
    step = bucket_size_s * 1000 if bucket_size_s else INTERVAL_MS[interval]
    first = start_ms - start_ms % step
    count = (end_ms - first + step - 1) // step
    if count > MAX_BUCKETS:
        raise APIError(
            400,
            "too_many_buckets",
            f"That range and interval give {count:,} buckets; the limit is {MAX_BUCKETS:,}. "
            "Use a longer aggregation_interval or a shorter range.",
        )
    return [first + i * step for i in range(max(1, count))]


@router.get("/v1/usage/character-stats", dependencies=API_KEY_REQUIRED)
def character_stats(
    store: StoreDep,
    start_unix: UnixMs,
    end_unix: UnixMs,
    include_workspace_metrics: bool = False,
    breakdown_type: Breakdown = "none",
    aggregation_interval: Literal["hour", "day", "week", "month", "cumulative"] = "day",
    aggregation_bucket_size: Annotated[int | None, Query(ge=1, le=MAX_UNIX_MS // 1000)] = None,
    metric: Metric = "credits",
) -> dict[str, Any]:
    """Characters (or request counts) per time bucket, in milliseconds, split by voice/model."""
    if end_unix <= start_unix:
        raise APIError(
            400, "invalid_time_range", "end_unix must be after start_unix (both in milliseconds)."
        )
    starts = bucket_starts(start_unix, end_unix, aggregation_interval, aggregation_bucket_size)
    series: dict[str, list[float]] = defaultdict(lambda: [0] * len(starts))
    def key_of(event: sqlite3.Row) -> str:
        field = {"voice": "voice_id", "model": "model_id"}.get(breakdown_type)
        return (event[field] or "unknown") if field else "All"

    for event in store.usage_events(start_unix, end_unix):
        index = _bucket_index(starts, event["time_ms"])
        value = 1 if metric == "request_count" else event["characters"]
        series[key_of(event)][index] += value
    if not series:
        series["All"] = [0] * len(starts)  # an empty range still reports its buckets
    return {"time": starts, "usage": dict(series)}


def _bucket_index(starts: list[int], time_ms: int) -> int:
    return max(0, bisect.bisect_right(starts, time_ms) - 1)
