"""`psot detect`: the GPU inventory from what the machine reports (SPEC §6).

Each tool's documented output has a parser of its own, a pure function of
the text: `nvidia_csv` (nvidia-smi --query-gpu CSV), `nvidia_xml`
(nvidia-smi -q -x, for drivers without `compute_cap`), `rocm_smi` and
`amd_smi` (JSON), `lspci` (`lspci -nn -D`, any vendor, even without a
driver), and for outputs that list no GPU but facts about them `iommu` (a
listing of /sys/kernel/iommu_groups) and `nvidia_modules` (which NVIDIA
kernel modules the host has). `formats` recognises which one a text is by
its content, `tools` runs whichever tools this host has, `merge` joins what
each knows about the same PCI address into one record per GPU (normalised
by `normalise`), `check` compares that with an inventory, and `render`
writes the `hosts.<host>.gpus` block. `cli` is the click command on top.

Parsers never raise on bad input: what they cannot read becomes a finding
(codes DETECT001-DETECT034, in the table of codes, generator/diagnostics/codes.py).
"""
