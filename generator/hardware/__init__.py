"""What psot knows about GPU hardware, as tables: a new GPU generation is one row.

nvidia.py, amd.py and intel.py each hold their vendor's row and one row per
architecture (NVIDIA also its SKUs and CUDA releases), every fact with its
source; rows.py defines the row types, tables.py the lookups over all of
them, driver_status.py what an installed driver means for a GPU, and cuda.py
what a CUDA release asks of one.
"""
