# Dates as people write them in English: "29 Nov 2026", "29 Nov 2026, 14:05" (Django's own
# English defaults are the American "Nov. 29, 2026"). Everything else is Django's.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
