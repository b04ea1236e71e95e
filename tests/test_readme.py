"""The README tells the truth: its walk-through prints what it shows, its file list is what the
default infra.yml compiles to, its links lead somewhere, and it leans on no document that does
not ship with the project."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
STEP = "@@psot-readme-step@@"


def between(text: str, name: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    assert begin in text and end in text, f"README.md has no {name} markers"
    return text[text.index(begin) + len(begin):text.index(end)]


def walkthrough() -> list[tuple[str, str]]:
    """(command, the output the README shows for it), in order, from the console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", between(README, "walkthrough"), re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ "):
                command = [line[2:]]
                heredoc = re.search(r"<<'(\w+)'$", line)
                if heredoc:
                    while lines[i] != heredoc[1]:
                        i += 1
                        command.append(lines[i])
                steps.append(("\n".join(command), []))
            else:
                assert steps, f"output before the first command: {line!r}"
                steps[-1][1].append(line)
            i += 1
    return [(command, "".join(out + "\n" for out in output)) for command, output in steps]


def test_the_walkthrough_prints_exactly_what_the_readme_shows():
    steps = walkthrough()
    assert len(steps) >= 8
    script = "exec 2>&1\n" + "".join(f"echo {STEP}\n{command}\n" for command, _ in steps)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSOT_", "VIRTUAL_ENV"))}
    # A terminal's order: what psot writes to stderr and stdout shows in the order it was written.
    env |= {"PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    shown = done.stdout.split(STEP + "\n")[1:]
    assert len(shown) == len(steps), done.stdout + done.stderr
    for (command, expected), got in zip(steps, shown):
        assert got == expected, f"$ {command}"


def test_the_default_tree_is_what_infra_yml_compiles_to(tmp_path):
    (tmp_path / "infra.yml").write_text((REPO / "infra.yml").read_text(encoding="utf-8"))
    done = subprocess.run([str(REPO / ".venv" / "bin" / "psot"), "sync", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = sorted(str(p.relative_to(tmp_path / "generated")) for p in (tmp_path / "generated").rglob("*")
                   if p.is_file() and ".psot" not in p.parts)
    listed = re.findall(r"^  (\S+)$", between(README, "default-tree"), re.M)
    assert listed == files
    assert [int(n) for n in re.findall(r"`make sync` writes (\d+)\s+files", README)] == [len(files)]


def test_no_reference_to_documents_that_do_not_ship():
    for pattern in (r"(?i)\bseeds?\b", r"SPEC §", r"\bSPEC\b"):
        hits = [line for line in README.splitlines() if re.search(pattern, line)]
        assert hits == [], pattern


def test_every_contents_link_names_a_heading():
    headings = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
                for h in re.findall(r"^#{2,3} (.+)$", README, re.M)}
    links = re.findall(r"^- \[[^\]]+\]\(#([^)]+)\)$", README, re.M)
    assert links and [link for link in links if link not in headings] == []


def test_relative_links_lead_to_files():
    for target in re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", README):
        assert (REPO / target.split("#")[0]).exists(), target
