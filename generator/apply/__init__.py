"""Apply: push the generated tree to the machines with each platform's own CLI.

`psot apply` compares the files psot renders from infra.yml (which must be
generated/, byte for byte: a file there that differs is refused, never sent)
with the files as they were last applied (the *applied state*, a mirror
kept beside generated/ in `.<output>.psot-state/`) and turns every file that
differs into the commands of its platform (see `units.py` and each
platform's apply.py, generator/platforms/<name>/): `incus` for
Incus, `qm` and `pvesh` for Proxmox, the user's compose command for Compose,
`kubectl` for Kubernetes. Nothing that did not change is touched. The bytes
it sends are the ones it rendered, never bytes read back from disk.

A *unit* is one file (or, for the kustomize overlay, the set of files one
`kubectl apply -k` applies) and its commands. Units run in order; a unit
counts as applied only when all its commands succeeded, and the applied
state is updated unit by unit (atomically), so a failure at any point
leaves a record that says exactly what reached the machines and what did
not. The next apply resumes from there.

Before an apply changes anything, the applied state is copied to
`previous/`; `psot rollback` applies `previous/` the same way (seed 001:
"restore previous override file").
"""
