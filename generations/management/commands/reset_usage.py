"""Start a new monthly period for every user whose period has ended (bulk; idempotent)."""

from django.core.management.base import BaseCommand

from generations.quota import generations_sweep_pending, usage_reset_expired


class Command(BaseCommand):
    help = "Reset the monthly generation counter of every user whose period has ended."

    def handle(self, *args, **options) -> None:
        # Abandoned generations first: their refunds belong to the period being closed.
        swept = generations_sweep_pending()
        count = usage_reset_expired()
        self.stdout.write(f"Reset the monthly usage of {count} user(s).")
        if swept:
            self.stdout.write(f"Swept {swept} abandoned pending generation(s).")
