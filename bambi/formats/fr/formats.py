# Dates as people write them in French: "29 nov. 2026", "29 nov. 2026 à 14:05" (Django's own
# French defaults spell the month out in full). Numbers keep Django's French rules: a comma
# for decimals, a non-breaking space between thousands.
DATE_FORMAT = "j N Y"
DATETIME_FORMAT = "j N Y à H:i"
MONTH_DAY_FORMAT = "j N"
