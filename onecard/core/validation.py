"""Model validation for actions: the last line of defence whatever the entry point."""

from django.core.exceptions import ValidationError

from .errors import InvalidInput


def clean_or_refuse(obj, *, exclude=None, validate_constraints=True):
    """Run the model's field validators and constraints; refuse with the fields named.

    ``validate_constraints=False`` leaves uniqueness to the database, for actions that answer a
    duplicate with their own 409."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=validate_constraints,
                       validate_constraints=validate_constraints)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict)


def snapshot(obj, fields=None):
    """A JSON-ready dict of an object's concrete fields (foreign keys as ids), for audit rows."""
    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(obj, field.attname)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        data[field.attname] = value
    return data
