"""Everything README's first command needs: migrate, static files, demo data, then serve."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, collect static files, load demo data and serve."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ONECARD_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("ONECARD_WORKERS", "3")))
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args, **options):
        call_command("compilemessages_py", verbosity=0)
        call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo")
        self.stdout.write(self.style.SUCCESS(
            f"\nOneCard is at http://{options['bind']}/  (API: /api/v1/, docs: /api/schema/docs/)"
        ))
        call_command("serve", bind=options["bind"], workers=options["workers"])
