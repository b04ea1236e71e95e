"""Policy rules (SPEC §3), one module per rule, registered here by code.

The rule engine and the rule set arrive with their own issue; the checks
that placement and rendering cannot do without (names, references, compose
device indexes) live in generator/model.py until then.
"""

RULES: dict = {}
