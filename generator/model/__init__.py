"""Validate stage, second half: the schema-valid document as typed data (the model).

- core.py: the GPU inventory (hosts and their GPUs), the GPU consumers, and `build`, which makes the
  model of a document and the views below;
- incus.py: the Incus objects of `domains:` (domains, profiles, machines) and their `type: gpu` devices;
- hosts.py: what a host declares besides its GPUs (storage pools, Kubernetes labels and taints);
- workloads.py: the entries of `workloads:`, GPU consumers or not;
- storage.py: where the workloads' model files go (their storage pools), from the views above.

The rules (generator/rules/) and the renderers (generator/platforms/) read these views rather than
walking the document.
"""
