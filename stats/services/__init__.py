"""Every state change of the statistics. Views, tasks, commands and tests call these."""

from stats.services.facts import dashboard_settings, queue_rules, report_tz
from stats.services.jobs import (
    advance_rebuild,
    rebuild,
    refresh_stats,
    resume_stalled_jobs,
    start_rebuild,
)
from stats.services.settings import (
    business_hours_changed,
    queue_settings_changed,
    save_dashboard_settings,
)

__all__ = [
    "advance_rebuild",
    "business_hours_changed",
    "dashboard_settings",
    "queue_rules",
    "queue_settings_changed",
    "rebuild",
    "refresh_stats",
    "report_tz",
    "resume_stalled_jobs",
    "save_dashboard_settings",
    "start_rebuild",
]
