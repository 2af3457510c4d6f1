"""Compile the project's .po catalogues to .mo with polib (no GNU gettext needed)."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile OneCard's translation catalogues (.po → .mo) without GNU gettext."

    def handle(self, *args, **options):
        compiled = 0
        # The project catalogue plus each app's own (onecard/<app>/locale), which Django also reads.
        app_locales = sorted(Path(settings.BASE_DIR).glob("*/locale"))
        for locale_dir in [*settings.LOCALE_PATHS, *app_locales]:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"compiled {compiled} catalogue(s)")
