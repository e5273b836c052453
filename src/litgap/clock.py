"""Time, as litgap stores it: UTC, ISO-8601 with microseconds and a trailing Z."""

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(utcnow())


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def after(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
