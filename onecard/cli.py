"""The ``onecard`` command: one CLI wrapping manage.py.

    onecard up           migrate, load demo data and serve (what README's first command runs)
    onecard serve        serve with granian or gunicorn (production WSGI servers) on --bind
    onecard demo         load idempotent demo data
    onecard migrate      apply database migrations
    onecard createadmin  create an operator admin account
    onecard audit verify check the audit log's hash chains
    onecard ledger verify recompute every wallet balance from the transfers
    onecard simulate     run simulated terminals against a running server (--url, --minutes)
    onecard <any manage.py command>
"""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onecard.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__)
        if not args:
            return 2
    execute_from_command_line(["onecard", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
