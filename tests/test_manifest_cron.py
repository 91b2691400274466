"""Timer schedules: the EventBridge expression runs at exactly the times the Convox one means.

Two small expanders, written from the two documented syntaxes and not from paaskit's code:
- Convox's: v3 reads a v2 schedule by dropping the year and turning `?` into `*`, then runs it
  as a Kubernetes CronJob, whose parser (robfig/cron's standard one) matches a day when the
  day of month *and* the day of week match if either field is a star (`*` or `?`, with no
  step above 1), and when *either* matches otherwise.
- EventBridge's `cron(min hour dom month dow year)`: weekdays 1-7 from Sunday, exactly one
  of the two day fields `?`, and `a/b` running from a to the field's end.
Both are compared over every minute and hour, and every day of 2024-2034: every date falls
on every weekday in those eleven years (29 February on three).
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from paaskit.manifest import aws_cron_expression

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
DAYS = [
    datetime.date(2024, 1, 1) + datetime.timedelta(days=n)
    for n in range((datetime.date(2035, 1, 1) - datetime.date(2024, 1, 1)).days)
]


@dataclass(frozen=True)
class Times:
    """When a schedule runs: minutes and hours of the day, and the dates of the window."""

    minutes: frozenset[int]
    hours: frozenset[int]
    dates: frozenset[datetime.date]


# --------------------------------------------------------------------------- Convox (cron)


def _crontab_field(
    text: str, low: int, high: int, names: list[str], base: int
) -> tuple[set[int], bool]:
    values: set[int] = set()
    star = False

    def number(token: str) -> int:
        if token.upper() in names:
            return names.index(token.upper()) + base
        return int(token)

    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        assert step >= 1
        if span in ("*", "?"):
            first, last = low, high
            star = star or step <= 1
        elif "-" in span:
            a, b = span.split("-")
            first, last = number(a), number(b)
        else:
            first = number(span)
            last = high if step_text else first
        assert low <= first <= last <= high, item
        values.update(range(first, last + 1, step))
    return values, star


def convox_times(schedule: str) -> Times:
    fields = schedule.split()[:5]
    fields = ["*" if f == "?" else f for f in fields]
    minute, hour, dom, month, dow = fields
    minutes, _ = _crontab_field(minute, 0, 59, [], 0)
    hours, _ = _crontab_field(hour, 0, 23, [], 0)
    days, dom_star = _crontab_field(dom, 1, 31, [], 1)
    months, _ = _crontab_field(month, 1, 12, MONTHS, 1)
    weekdays, dow_star = _crontab_field(dow, 0, 6, WEEKDAYS, 0)

    def runs(day: datetime.date) -> bool:
        if day.month not in months:
            return False
        on_date = day.day in days
        on_weekday = (day.isoweekday() % 7) in weekdays  # Sunday 0
        if dom_star or dow_star:
            return on_date and on_weekday
        return on_date or on_weekday

    return Times(frozenset(minutes), frozenset(hours), frozenset(d for d in DAYS if runs(d)))


# --------------------------------------------------------------------------- EventBridge


def _aws_field(text: str, low: int, high: int, names: list[str], base: int) -> set[int]:
    values: set[int] = set()

    def number(token: str) -> int:
        if token in names:
            return names.index(token) + base
        assert token.isdigit(), token
        return int(token)

    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-")
            first, last = number(a), number(b)
        else:
            first = number(span)
            last = high if step_text else first
        assert low <= first <= last <= high, item
        values.update(range(first, last + 1, step))
    return values


def aws_times(expression: str) -> Times:
    match = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    assert match, expression
    minute, hour, dom, month, dow, year = match.groups()
    assert year == "*"
    assert (dom == "?") != (dow == "?"), f"exactly one day field must be ?: {expression}"
    assert "?" not in minute + hour + month
    minutes = _aws_field(minute, 0, 59, [], 0)
    hours = _aws_field(hour, 0, 23, [], 0)
    months = _aws_field(month, 1, 12, MONTHS, 1)
    days = set(range(1, 32)) if dom == "?" else _aws_field(dom, 1, 31, [], 1)
    weekdays = set(range(1, 8)) if dow == "?" else _aws_field(dow, 1, 7, WEEKDAYS, 1)

    def runs(day: datetime.date) -> bool:
        weekday = day.isoweekday() % 7 + 1  # Sunday 1
        return day.month in months and day.day in days and weekday in weekdays

    return Times(frozenset(minutes), frozenset(hours), frozenset(d for d in DAYS if runs(d)))


# --------------------------------------------------------------------------- schedules


def _items(low: int, high: int, names: list[str] | None, base: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    span = st.tuples(value, value).map(lambda ab: (min(ab), max(ab)))
    step = st.integers(1, max(1, high - low + 1))
    shapes = [
        st.just("*"),
        step.map(lambda s: f"*/{s}"),
        value.map(str),
        span.map(lambda ab: f"{ab[0]}-{ab[1]}"),
        st.tuples(span, step).map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}"),
        st.tuples(value, step).map(lambda t: f"{t[0]}/{t[1]}"),
    ]
    if names:
        name = st.integers(0, len(names) - 1)
        shapes.append(name.map(lambda i: names[i]))
        shapes.append(
            st.tuples(name, name).map(lambda ab: f"{names[min(ab)]}-{names[max(ab)]}".lower())
        )
    return st.one_of(shapes)


def _field(
    low: int, high: int, names: list[str] | None = None, base: int = 0
) -> st.SearchStrategy[str]:
    return st.lists(_items(low, high, names, base), min_size=1, max_size=4).map(",".join)


CRONTAB = st.tuples(
    _field(0, 59),
    _field(0, 23),
    _field(1, 31),
    _field(1, 12, MONTHS, 1),
    _field(0, 6, WEEKDAYS),
).map(" ".join)


def _check(schedule: str) -> None:
    convox = convox_times(schedule)
    fields = schedule.split()
    days, dom_star = _crontab_field(fields[2], 1, 31, [], 1)
    weekdays, dow_star = _crontab_field(fields[4], 0, 6, WEEKDAYS, 0)
    either = not (dom_star or dow_star)
    if either and days != set(range(1, 32)) and weekdays != set(range(7)):
        # Crontab's "either day" rule with both days restricted: AWS cannot express it.
        with pytest.raises(ValueError, match="a day of month and a day of week together"):
            aws_cron_expression(schedule)
        return
    expression = aws_cron_expression(schedule)
    assert aws_times(expression) == convox, (schedule, expression)


@settings(max_examples=150, deadline=None)
@given(CRONTAB)
@example("0,10,25 * * * *")
@example("0/15 * * * *")
@example("1,2,5 1,2,5 1,2,5 1,2,5 *")
@example("0 0 1-31 * MON")
@example("0 0 */2 * MON")
@example("0 0 */1 * MON")
@example("0 0 1 * 0-6")
@example("0 0 * * 1/2")
@example("58/7 22/3 31/9 11/2 *")
def test_crontab_schedules_run_at_the_same_times_on_aws(schedule: str) -> None:
    _check(schedule)


AWS_FORM = st.tuples(
    _field(0, 59),
    _field(0, 23),
    st.one_of(st.just("?"), _field(1, 31)),
    _field(1, 12, MONTHS, 1),
    st.one_of(
        st.just("?"),
        st.lists(
            st.one_of(
                st.sampled_from(WEEKDAYS),
                st.tuples(st.integers(0, 6), st.integers(0, 6)).map(
                    lambda ab: f"{WEEKDAYS[min(ab)]}-{WEEKDAYS[max(ab)]}"
                ),
            ),
            min_size=1,
            max_size=3,
        ).map(",".join),
    ),
    st.sampled_from(["*", "?", ""]),
).map(lambda f: " ".join(x for x in f if x))


@settings(max_examples=100, deadline=None)
@given(AWS_FORM)
@example("0 3 * * ? *")
@example("*/10 * * * ? *")
@example("30 18 ? * MON-FRI *")
def test_convox_v2_schedules_run_at_the_same_times_on_aws(schedule: str) -> None:
    assume("?" in schedule or len(schedule.split()) == 6)
    _check(schedule)


@pytest.mark.parametrize(
    ("schedule", "expression"),
    [
        # Lists that look like a step are not one; a step is kept as one.
        ("0,10,25 * * * *", "cron(0,10,25 * * * ? *)"),
        ("0,10,20,30,40,50 * * * *", "cron(0/10 * * * ? *)"),
        ("0/15 * * * *", "cron(0/15 * * * ? *)"),
        ("5/15 * * * *", "cron(5/15 * * * ? *)"),
        ("1,2,5 * * * *", "cron(1,2,5 * * * ? *)"),
        ("1,2,3,5 * * * *", "cron(1-3,5 * * * ? *)"),
        ("0 0 1-31 * MON", "cron(0 0 * * ? *)"),
        ("0 0 */1 * MON", "cron(0 0 ? * MON *)"),
        ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
        ("@weekly", "cron(0 0 ? * SUN *)"),
    ],
)
def test_translations_that_mutants_would_change(schedule: str, expression: str) -> None:
    assert aws_cron_expression(schedule) == expression
    if schedule != "0 0 * * 7":  # robfig/cron reads weekdays 0-6; paaskit also takes 7
        assert aws_times(expression) == convox_times(
            {"@weekly": "0 0 * * 0"}.get(schedule, schedule)
        )


def test_both_day_fields_restricted_are_refused() -> None:
    with pytest.raises(ValueError, match="a day of month and a day of week together"):
        aws_cron_expression("0 0 */2 * MON")
    with pytest.raises(ValueError, match="a day of month and a day of week together"):
        aws_cron_expression("0 0 1 * MON *")


def test_the_window_has_every_date_on_every_weekday() -> None:
    weekdays: dict[tuple[int, int], set[int]] = {}
    for day in DAYS:
        weekdays.setdefault((day.month, day.day), set()).add(day.weekday())
    assert len(weekdays) == sum(calendar.monthrange(2024, m)[1] for m in range(1, 13))
    assert {date for date, seen in weekdays.items() if len(seen) < 7} == {(2, 29)}
