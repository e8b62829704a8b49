"""Which addons exist (entry points in group ``kehu.addons``) and the order they install in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points

from core.addons.exceptions import DependencyCycle, MissingDependency, UnknownAddon
from core.addons.manifest import CORE, AddonSpec, load_manifest
from core.exceptions import KehuError

ENTRY_POINT_GROUP = "kehu.addons"


class AddonCatalog:
    """The addons available to this installation, whether installed in a database or not."""

    def __init__(self, specs: Iterable[AddonSpec], *, invalid: dict[str, KehuError] | None = None) -> None:
        self._specs: dict[str, AddonSpec] = {}
        for spec in specs:
            self._specs[spec.name] = spec
        #: Entry points whose manifest could not be read: reported, never loaded.
        self.invalid: dict[str, KehuError] = dict(invalid or {})

    @classmethod
    def discover(cls, eps: Iterable[EntryPoint] | None = None) -> AddonCatalog:
        """Read every ``kehu.addons`` entry point: ``name = package``.

        ``eps`` defaults to the installed distributions' entry points; tests pass their own
        ``EntryPoint`` objects (for fixture addons) through the very same code.
        """
        if eps is None:
            eps = entry_points(group=ENTRY_POINT_GROUP)
        specs: list[AddonSpec] = []
        invalid: dict[str, KehuError] = {}
        for ep in eps:
            try:
                specs.append(load_manifest(ep.name, ep.value.split(":")[0]))
            except KehuError as exc:  # one partner's broken package must not stop the others
                invalid[ep.name] = exc
        return cls(specs, invalid=invalid)

    def __iter__(self) -> Iterator[AddonSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> AddonSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownAddon(name=name) from None

    def install_order(self, names: Iterable[str]) -> list[AddonSpec]:
        """``names`` and all they depend on, dependencies first (a depth-first topological sort).

        Raises UnknownAddon, MissingDependency or DependencyCycle, each naming the addons.
        """
        order: list[AddonSpec] = []
        done: set[str] = set()

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in done:
                return
            if name in path:
                cycle = (*path[path.index(name):], name)
                raise DependencyCycle(cycle=" → ".join(cycle))
            spec = self.get(name)
            for dep in spec.depends:
                if dep not in self._specs:
                    raise MissingDependency(name=name, missing=dep)
                visit(dep, (*path, name))
            done.add(name)
            order.append(spec)

        for name in names:
            if name == CORE:
                continue
            visit(name, ())
        return order

    def loadable_order(self) -> tuple[list[AddonSpec], dict[str, KehuError]]:
        """Every addon whose dependencies resolve, dependencies first, and the others' errors.

        The app includes and registers addons in this order; one partner addon with a missing
        dependency is reported, not allowed to stop the whole server.
        """
        order: list[AddonSpec] = []
        broken: dict[str, KehuError] = dict(self.invalid)
        for spec in self:
            try:
                chain = self.install_order([spec.name])
            except KehuError as exc:
                broken[spec.name] = exc
                continue
            order.extend(s for s in chain if s not in order)
        return order, broken

    def dependents(self, name: str) -> set[str]:
        """Addons that depend on ``name`` directly or through others."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for spec in self._specs.values():
                if current in spec.depends and spec.name not in found:
                    found.add(spec.name)
                    frontier.append(spec.name)
        return found
