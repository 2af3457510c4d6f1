"""``onecard createadmin``: create an operator admin account from the command line.

The password comes from, in order: ``--password-stdin`` (first line of standard input), the
``ONECARD_ADMIN_PASSWORD`` environment variable, or an interactive prompt asked twice. It never
appears on the command line, where other users of the machine could read it. If the platform has
no operator yet, one is created first, in the same transaction as the account.
"""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from onecard.accounts.actions import create_account
from onecard.accounts.choices import Role
from onecard.core.errors import DomainError, InvalidInput
from onecard.organizations.actions import create_operator
from onecard.organizations.models import Operator

PASSWORD_ENV = "ONECARD_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = "Create an operator admin account (and the operator, if there is none yet)."
    # Tests pass a file-like ``stdin``; the command line uses the process's standard input.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from the first line of standard input.")
        parser.add_argument("--operator-name", default="OneCard Operator",
                            help="Name of the operator to create if none exists yet.")

    def handle(self, *args, **options):
        password = self._password(options)
        try:
            with transaction.atomic():
                operator = Operator.objects.order_by("pk").first()
                if operator is None:
                    name = options["operator_name"].strip() or "OneCard Operator"
                    operator = create_operator(actor=None, name=name,
                                               code=slugify(name)[:50] or "operator")
                user = create_account(actor=None, username=options["username"],
                                      password=password, role=Role.OPERATOR_ADMIN,
                                      email=options["email"].strip())
        except InvalidInput as exc:
            problems = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in exc.errors.items()
            )
            raise CommandError(f"Account not created. {problems}")
        except DomainError as exc:
            raise CommandError(f"Account not created. {exc.message}")
        self.stdout.write(self.style.SUCCESS(
            f"Created operator admin “{user.username}” for {operator.name}."
        ))

    def _password(self, options):
        if options["password_stdin"]:
            stream = options.get("stdin") or sys.stdin
            password = stream.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            return password
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV]
        stream = options.get("stdin") or sys.stdin
        if not (hasattr(stream, "isatty") and stream.isatty()):
            raise CommandError(
                f"No password given: set {PASSWORD_ENV}, use --password-stdin, or run in a "
                "terminal to be asked."
            )
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords differ.")
        if not first:
            raise CommandError("The password is empty.")
        return first
