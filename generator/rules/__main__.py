"""`python -m generator.rules [README]` (`make docs`): rewrite the README's tables of finding codes.

The rule table comes from the rule modules, the others from the table of codes (generator/diagnostics/codes.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from generator.diagnostics.codes import update_readme


def main() -> int:
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    text = readme.read_text(encoding="utf-8")
    new, missing = update_readme(text)
    if missing:
        for name in missing:
            print(f"{readme}: no <!-- {name}:begin --> ... <!-- {name}:end --> block", file=sys.stderr)
        return 1
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"{readme}: tables of codes updated")
    return 0


sys.exit(main())
