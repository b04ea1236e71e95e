"""INC008 (incus_storage_volume.py): one spec per shared storage volume, and a device name of its own; beyond
the docstring example: a volume named like the root disk, and what stays quiet."""

from __future__ import annotations

from generator.pipeline import compile_infra
from tests.rules import helpers

infra_file = helpers.infra_file

TEXT = """\
project_name: lab
global: {}
domains:
  ai-tools:
    machines:
      ollama:
        storage_volumes:
          VOLUME: {size: 200GiB, path: /root/.ollama}
      vllm:
        storage_volumes:
          models: {size: 100GiB, path: /models, pool: POOL}
"""


def inc008(infra_file, volume: str = "models", pool: str = "fast") -> list[str]:
    result = compile_infra(infra_file(TEXT.replace("VOLUME", volume).replace("POOL", pool)), until="validate")
    return [f.format() for f in result.diag.findings if f.code == "INC008"]


def test_a_volume_named_like_the_default_profiles_root_disk(infra_file):
    assert inc008(infra_file, volume="root") == [
        "infra.yml:8:11: error[INC008] machine 'ollama': storage volume 'root' would be attached as device 'root', "
        "which the machine already has (its profiles' or its own); rename the volume"]


def test_volumes_of_one_name_in_two_pools_are_two_volumes(infra_file):
    assert inc008(infra_file) == []


def test_the_same_volume_in_the_default_pool_named_or_not_is_one(infra_file):
    assert inc008(infra_file, pool="default") == [
        "infra.yml:11:26: error[INC008] machine 'vllm': storage volume 'models' (pool default) of domain 'ai-tools' "
        "is also declared by machine 'ollama', with size 200GiB, not 100GiB; a volume shared by machines has one "
        "size: give both the same, or rename one"]
