"""PyYAML's safe loader with its tag resolution cached per distinct plain scalar.

libyaml parses in C, but its composer asks the Python resolver for the tag of every
scalar (`Resolver.resolve`: a scan of the regular expressions registered for the
scalar's first character) and calls `descend_resolver`/`ascend_resolver` around every
node: a quarter of composing a large infra.yml. For a scalar the answer depends on its
text alone (the safe loader has no path resolvers: `yaml_path_resolvers` is empty, so
the descend/ascend calls do nothing either), and an inventory repeats the same texts
(vendors, platforms, images, booleans) thousands of times. The tags are the safe
loader's own: only the repeated work goes.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import ScalarNode

BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_base_resolve = BaseLoader.resolve


class CachedSafeLoader(BaseLoader):
    """The safe loader (libyaml's when present); each loader instance caches the tags of its plain scalars."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: tuple[bool, bool]) -> Any:
        if kind is ScalarNode and implicit[0]:
            tags = self._plain_tags
            tag = tags.get(value)
            if tag is None:
                tag = tags[value] = _base_resolve(self, kind, value, implicit)
            return tag
        return _base_resolve(self, kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Nothing to do without path resolvers (BaseResolver.descend_resolver returns at once)."""

    def ascend_resolver(self) -> None:
        """Nothing to do without path resolvers."""
