from core.exceptions import KehuError
from core.i18n import _


class DepartmentCycle(KehuError):
    message = _("“${name}” cannot move under itself or one of its sub-departments.")


class DepartmentHasMembers(KehuError):
    message = _("“${name}” still has ${count} member(s): move them to another department first.")


class DepartmentHasChildren(KehuError):
    message = _("“${name}” still has sub-departments: move or delete them first.")


class DepartmentNameTaken(KehuError):
    message = _("A department named “${name}” already exists at this level.")


class DepartmentNameRequired(KehuError):
    message = _("A department needs a name (at most 100 characters).")


class RootDepartment(KehuError):
    message = _("The top department cannot be moved, disabled or deleted.")


class DepartmentNotFound(KehuError):
    message = _("No such department.")


class DepartmentDisabled(KehuError):
    message = _("“${name}” is disabled: choose an active department.")
