"""`psot switch`: one ordered transition of every platform from one GPU mode to another.

A *mode* is a compilation of infra.yml: a named mode of `modes:`, or the
active one with GPUs taken away (`--without`, failover). `plan.py` compares
two compilations and orders what must happen between them: stop what loses
or changes its GPU, move each card whose side changes between vfio-pci and
its host driver, apply the to-mode's files, start what gains one.
`service.py` runs that list with the apply engine (generator/apply/), so it
is recorded and resumable like an apply, and keeps the active mode in the
applied state (`mode.json`, generator/apply/state.py).
"""
