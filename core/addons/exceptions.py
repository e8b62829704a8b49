"""Errors of the addon system, each naming the addons concerned."""

from core.exceptions import KehuError
from core.i18n import _


class UnknownAddon(KehuError):
    message = _("Unknown addon: ${name}. Run “kehu addons list” to see the available ones.")


class MissingDependency(KehuError):
    message = _("Addon ${name} depends on ${missing}, which is not available.")


class DependencyCycle(KehuError):
    message = _("Addons depend on each other in a cycle: ${cycle}.")


class InvalidManifest(KehuError):
    message = _("The manifest of addon ${name} is invalid: ${problem}")


class DependentsInstalled(KehuError):
    message = _("Cannot uninstall ${name}: installed addons depend on it (${dependents}). Uninstall them first.")


class NotInstalled(KehuError):
    message = _("Addon ${name} is not installed.")


class InstallFailed(KehuError):
    message = _("Installing ${name} failed and nothing was changed: ${reason}")


class DatabaseNotInitialised(KehuError):
    message = _("The database is not initialised. Run “kehu init” first.")


class DependentDataKept(KehuError):
    message = _("Cannot drop the data of ${name}: the kept data of ${dependents} refers to it. "
                "Uninstall them with --drop-data first.")


class PackageMissing(KehuError):
    message = _("The package of addon ${name} is no longer installed, so its tables cannot be dropped. "
                "Uninstall it without --drop-data, or reinstall the package first.")
