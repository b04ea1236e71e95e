"""Directory mode is linear in the domains of one file (issue 13, item 9).

Loading a domain file records a position per key and value; merging it into the document copies them
once. Speed itself is `make bench`'s: this counts the work, which a quadratic merge (a walk of the whole
file's positions per domain: 2 000 domains took 96 s instead of 3) multiplies by the number of domains.
"""

from __future__ import annotations

from pathlib import Path

from generator.diagnostics.findings import Diagnostics
from generator.load import loader

BASE = "project_name: lab\nglobal: {}\ndomains: {}\n"


class CountingDict(dict):
    """A position table that counts the entries its `items()` hands out."""
    handed = 0

    def items(self):
        for item in super().items():
            CountingDict.handed += 1
            yield item


def positions_walked(tmp_path: Path, domains: int, monkeypatch) -> tuple[int, int]:
    """(entries of the position tables walked while loading, positions recorded) for one domain file."""
    root = tmp_path / str(domains) / "infra"
    (root / "domains").mkdir(parents=True)
    (root / "base.yml").write_text(BASE)
    (root / "domains" / "all.yml").write_text("".join(
        f"d{i}:\n  machines:\n    m{i}: {{type: lxc, config: {{a: b}}}}\n" for i in range(domains)))

    class Counted(loader.Document):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.keys, self.values = CountingDict(self.keys), CountingDict(self.values)
    monkeypatch.setattr(loader, "Document", Counted)
    CountingDict.handed = 0
    doc = loader.load(root, Diagnostics())
    assert doc is not None and len(doc.data["domains"]) == domains
    return CountingDict.handed, len(doc.keys) + len(doc.values)


def test_directory_mode_walks_each_position_once_however_many_domains_a_file_holds(tmp_path, monkeypatch):
    for domains in (10, 400):
        walked, recorded = positions_walked(tmp_path, domains, monkeypatch)
        assert walked <= recorded, (domains, walked, recorded)
