"""Model validation for actions: the last line of defence whatever the entry point."""

from django.core.exceptions import ValidationError

from .errors import InvalidInput


def clean_or_refuse(obj, *, exclude=None):
    """Run the model's field validators and constraints; refuse with the fields named."""
    try:
        obj.full_clean(exclude=exclude)
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
