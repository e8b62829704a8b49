"""What the customer form offers besides its own fields: the administrator's lists (source,
level, industry), the cascading region selects, and its tags, saved after the customer."""

from __future__ import annotations

from pyramid.request import Request

from core.context import Ctx

from . import choices, exceptions, regions, tags
from .forms import CustomerForm
from .models import Customer

BLANK = ("", "—")
#: The refusals of the lists, regions and tags, shown beside their fields.
ERRORS = {
    exceptions.SourceUnavailable: "source",
    exceptions.LevelUnavailable: "level",
    exceptions.IndustryUnavailable: "industry",
    exceptions.ProvinceUnknown: "province",
    exceptions.RegionIncomplete: "province",
    exceptions.CityNotInProvince: "city",
    exceptions.DistrictNotInCity: "district",
    exceptions.TagNameInvalid: "tag_names",
    exceptions.TooManyTags: "tag_names",
}


def prepare(request: Request, form: CustomerForm, customer: Customer | None = None) -> None:
    """Set the selects' choices: the active entries of each list (plus the customer's own value,
    even a deactivated one), the provinces, and the cities and districts of the chosen ones."""
    ctx = request.ctx
    for kind in choices.KINDS:
        field = form[kind]
        field.choices = [BLANK, *choices.options(ctx, kind, field.data or getattr(customer, kind, None))]
    province, city = form.province.data or None, form.city.data or None
    levels = [(form.province, regions.provinces()), (form.city, regions.cities(province)),
              (form.district, regions.districts(province, city))]
    for field, found in levels:
        names = [r.name for r in found]
        if field.data and field.data not in names:  # typed before the list existed: keep it visible
            names.append(field.data)
        field.choices = [BLANK, *((name, name) for name in names)]
    if customer is not None and request.method != "POST":
        form.tag_names.data = ", ".join(tags.tag_names(ctx, customer.id))


def save_tags(ctx: Ctx, customer: Customer, form: CustomerForm) -> Customer:
    """The form's tags on the customer just saved (same savepoint: a refused tag undoes the save)."""
    tags.set_customer_tags(ctx, customer.id, form.tag_names.data or "")
    return customer



def detail_facts(ctx: Ctx, customer: Customer) -> dict[str, object]:
    """What the customer page shows of the lists and tags: each stored value's label (a
    deactivated one too; the lists are cached) and the tag names (one query)."""
    labels: dict[str, dict[str, str]] = {kind: {c.value: c.label for c in choices.choices(ctx, kind)}
                                         for kind in choices.KINDS}
    return {"labels": {kind: labels[kind].get(getattr(customer, kind)) or getattr(customer, kind)
                       for kind in choices.KINDS},
            "tags": tags.tag_names(ctx, customer.id)}
