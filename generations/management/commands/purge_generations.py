"""Retention policy: delete generations older than N days, with their images and files."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from generations.deletion import generations_purge


class Command(BaseCommand):
    help = "Delete generations (rows and image files) older than --older-than DAYS."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="Delete generations created more than DAYS days ago (at least 1).",
        )

    def handle(self, *args, older_than: int, **options) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        generations, files = generations_purge(older_than=timedelta(days=older_than))
        self.stdout.write(
            f"Deleted {generations} generation(s) older than {older_than} day(s) "
            f"and {files} file(s)."
        )
