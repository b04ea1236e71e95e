"""`python -m generator.rules [README]`: rewrite the README's rule table from the rule modules."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from generator.rules import table_markdown


def main() -> int:
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    text = readme.read_text(encoding="utf-8")
    new, count = re.subn(r"(<!-- rules:begin -->\n).*?(<!-- rules:end -->)",
                         lambda m: m.group(1) + table_markdown() + m.group(2), text, flags=re.DOTALL)
    if count != 1:
        print(f"{readme}: no <!-- rules:begin --> ... <!-- rules:end --> block", file=sys.stderr)
        return 1
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"{readme}: rule table updated")
    return 0


sys.exit(main())
