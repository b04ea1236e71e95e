"""Numbers psot reads from its environment (PSOT_LOCK_TIMEOUT, PSOT_APPLY_TIMEOUT), checked when used.

A value that is not a finite number of seconds from 0 to a day (`abc`,
`-1`, `nan`, `inf`, `1e30`) is refused with a message that names the
variable: `nan` would make a wait never end, a negative one end at once.
"""

from __future__ import annotations

import math
import os

SECONDS_MAX = 86_400.0       # a day: longer than anything psot waits for


class SettingError(ValueError):
    """An environment variable that should hold a number of seconds does not; the message says so."""


def seconds(name: str, default: float) -> float:
    """The seconds in environment variable `name`; `default` when it is unset or empty."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= SECONDS_MAX):
        raise SettingError(f"{name}={text!r} is not a number of seconds from 0 to {SECONDS_MAX:.0f}: set it to "
                           f"e.g. {default:.0f}, or unset it for the default ({default:.0f} s)")
    return value
