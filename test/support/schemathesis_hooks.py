# Schemathesis hooks for the fuzz run (test/fuzz.test.ts, loaded by test/support/schemathesis.toml).
#
# positive_data_acceptance sends requests that the OpenAPI document allows and expects them taken.
# A few of the API's rules tie two fields together, which JSON Schema cannot say, and the API
# refuses their breach with 400 as it should. Such a refusal is dropped here only when every field
# error in the answer is one of these rules; any other reason still fails the run. Each one dropped
# is named on stderr (in the run's output), and the report counts them.
import sys

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

CROSS_FIELD_RULES = (
    # POST /checkouts: a fallback provider repeating payment.provider (uniqueItems says the rest).
    "each provider may be tried only once",
    # GET /reports/payments: `from` after `to`, and a window over 366 days.
    "must not be after `to`",
    "days after `from`",
    # The lists: `starting_after` and `ending_before` at once (which page would that be?).
    "must not be given with starting_after",
)

_named = set()


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """False drops the failure: a 400 whose every reason is a cross-field rule above."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    try:
        fields = response.json()["error"]["fields"]
        reasons = [field["field"] + ": " + field["reason"] for field in fields]
    except (ValueError, KeyError, TypeError):
        return True
    if not fields or not all(any(rule in field["reason"] for rule in CROSS_FIELD_RULES) for field in fields):
        return True
    seen = (failure.operation, tuple(reasons))
    if seen not in _named:
        _named.add(seen)
        print(f"positive_data_acceptance, dropped (a cross-field rule): {failure.operation}: {'; '.join(reasons)}", file=sys.stderr)
    return False
