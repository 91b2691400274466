"""The nightly report: a one-off task started by the timer, then gone."""

import datetime

print(f"report for {datetime.date.today().isoformat()}: done", flush=True)
