"""Timer schedules: crontab's and Convox v2's forms, translated to EventBridge `cron(...)` expressions."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._errors import show

__all__ = [
    "aws_cron_expression",
]

_MONTH_NAMES = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAY_NAMES = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_ALL_DAYS = frozenset(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))
_CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# field name, lowest, highest, names
_CRON_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTH_NAMES),
    ("day of week", 0, 7, _DAY_NAMES),
)


def _cron_value(text: str, field: str, low: int, high: int, names: Mapping[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"{field}: {show(text)} is not a number or a name")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{field}: {value} is outside {low}-{high}")
    return value


def _cron_field(
    text: str, field: str, low: int, high: int, names: Mapping[str, int]
) -> tuple[frozenset[int], bool]:
    """The values a field matches, and whether it is a *star* (an item `*` or `?` with no step
    above 1): cron's day rule depends on that, not on the values (`1-31` is no star)."""
    values: set[int] = set()
    star = False
    # Where an open range (`*`, `N/step`) ends: Saturday for the day of week, whose 7 (Sunday
    # again, as crontab allows) would otherwise add a Sunday to `1/2`.
    open_end = min(high, 6) if field == "day of week" else high
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{field}: step {show(step_text)} must be a number from 1")
            step = int(step_text)
        if base in {"*", "?"}:
            if base == "?" and field not in {"day of month", "day of week"}:
                raise ValueError(f"{field}: ? is only allowed for the day of month or week")
            start, end = low, open_end
            star = star or step == 1
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _cron_value(first, field, low, high, names)
            end = _cron_value(last, field, low, high, names)
            if start > end:
                raise ValueError(f"{field}: range {show(base)} runs backwards")
        elif base:
            start = _cron_value(base, field, low, high, names)
            end = open_end if slash else start
        else:
            raise ValueError(f"{field}: empty item in {show(text)}")
        if start > end:
            raise ValueError(f"{field}: {show(item)} matches nothing")
        values.update(range(start, end + 1, step))
    return frozenset(values), star


def _cron_list(values: frozenset[int], low: int, high: int) -> str:
    """AWS form of a set of numbers: `*`, `start/step`, or runs like `1-5,10`."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) >= 3:
        step = ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(ordered[0], high + 1, step)):
            return f"{ordered[0]}/{step}"
    return ",".join(_runs([str(v) for v in ordered], ordered))


def _runs(labels: list[str], ordered: list[int]) -> list[str]:
    """Joins consecutive numbers of three or more into `first-last`."""
    out: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{labels[i]}-{labels[j]}")
        else:
            out.extend(labels[i : j + 1])
        i = j + 1
    return out


def aws_cron_expression(schedule: str) -> str:
    """Converts a timer schedule to an EventBridge `cron(...)` expression, or raises ValueError.

    Accepted forms, all in UTC:
    - crontab's 5 fields `minute hour day-of-month month day-of-week` (Convox v3's form):
      numbers, `*`, ranges, lists, steps, JAN-DEC and SUN-SAT, day of week 0-7 with 0 and
      7 for Sunday, and the aliases `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`;
    - Convox v2's AWS form: the same with `?` for "any" in the day of month or week, and
      optionally a sixth year field, which must be `*`.

    The times are those Convox v3 runs a schedule at: it reads the AWS form by dropping the
    year and turning `?` into `*`, then runs a Kubernetes CronJob, whose cron (robfig/cron)
    matches the days in both day fields when either is a star (`*` or `?` with no step
    above 1), and the days in either field otherwise: `0 0 1-31 * MON` runs every day,
    `0 0 * * MON` on Mondays. tests/test_manifest_cron.py checks this against an expander
    of each syntax.

    AWS differs from crontab in three ways, which the conversion handles: it wants `?` in
    one of the two day fields, it numbers weekdays 1-7 from Sunday (written here as
    names, SUN-SAT, so nothing is renumbered), and it has no `/` in the day of week
    (expanded to a list). What AWS cannot express fails: both day fields restricted
    (crontab's "either" rule, as in `0 0 */2 * MON`). A day-of-week *number* in the AWS form is refused as
    ambiguous, because Convox v2 read it as AWS (1 = Sunday) and v3 as crontab (1 = Monday).
    """
    text = " ".join(schedule.split())
    text = _CRON_ALIASES.get(text.lower(), text)
    fields = text.split(" ")
    aws_form = "?" in text or len(fields) == 6
    if len(fields) == 6:
        if fields[5] not in {"*", "?"}:
            raise ValueError(f"the year field must be * (got {show(fields[5])})")
        fields = fields[:5]
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields, minute hour day-of-month month day-of-week (got {show(schedule)})"
        )
    if aws_form and re.search(r"\d", fields[4]):
        raise ValueError(
            f"write the day of week as names such as MON-FRI (got {show(fields[4])}): AWS numbers "
            "Sunday 1, crontab numbers it 0, and this schedule mixes the two forms"
        )
    fields_read = [
        _cron_field(field_text, name, low, high, names)
        for field_text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True)
    ]
    minute, hour, dom, month, dow = (values for values, _ in fields_read)
    dom_star, dow_star = fields_read[2][1], fields_read[4][1]
    dow = frozenset(d % 7 for d in dow)
    if not (dom_star or dow_star):
        # Neither day field is a star: cron runs on days matching *either*.
        if dom == _ALL_DAYS or dow == _ALL_WEEKDAYS:
            dom, dow = _ALL_DAYS, _ALL_WEEKDAYS
        else:
            raise ValueError(
                "a day of month and a day of week together mean either one in crontab, which "
                "AWS cannot express: restrict only one of them (use two timers for both)"
            )
    # One is a star (all its values): days matching both are the other field's.
    if dow == _ALL_WEEKDAYS:
        dom_text, dow_text = _cron_list(dom, 1, 31), "?"
    else:
        ordered = sorted(dow)
        dom_text = "?"
        dow_text = ",".join(_runs([list(_DAY_NAMES)[d] for d in ordered], ordered))
    parts = [
        _cron_list(minute, 0, 59),
        _cron_list(hour, 0, 23),
        dom_text,
        _cron_list(month, 1, 12),
        dow_text,
        "*",
    ]
    return f"cron({' '.join(parts)})"
