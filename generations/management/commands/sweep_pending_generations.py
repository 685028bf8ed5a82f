"""Fail the generations a dead worker left pending and give their quota slots back (idempotent)."""

from django.core.management.base import BaseCommand

from generations.quota import generations_sweep_pending, pending_abandoned_after


class Command(BaseCommand):
    help = (
        "Mark generations pending for longer than any live provider call can take as failed, "
        "and refund their quota slot (once). Safe to run at any time and repeatedly."
    )

    def handle(self, *args, **options) -> None:
        count = generations_sweep_pending()
        minutes = int(pending_abandoned_after().total_seconds() // 60)
        self.stdout.write(f"Swept {count} generation(s) pending for more than {minutes} minutes.")
