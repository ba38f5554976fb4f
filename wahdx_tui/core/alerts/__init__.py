"""Alerts that reach the team: grouped, rate-capped, inert messages delivered through Apprise."""

from wahdx_tui.core.alerts.alerter import Alerter, MessageSink, notify_test, open_alerter
from wahdx_tui.core.alerts.alertsettings import AlertSettings, parse_quiet
from wahdx_tui.core.alerts.delivery import DeliveryStatus, Notifier, Retry, send_test
from wahdx_tui.core.alerts.facts import AlertPost, ApiState
from wahdx_tui.core.alerts.message import AlertMessage, Kind
from wahdx_tui.core.alerts.policy import AlertPolicy
from wahdx_tui.core.alerts.targets import NO_TARGETS, NOTIFY_ENV, Target, load_targets
from wahdx_tui.core.settings.table import QuietHours

__all__ = [
    "NOTIFY_ENV",
    "NO_TARGETS",
    "AlertMessage",
    "AlertPolicy",
    "AlertPost",
    "AlertSettings",
    "Alerter",
    "ApiState",
    "DeliveryStatus",
    "Kind",
    "MessageSink",
    "Notifier",
    "QuietHours",
    "Retry",
    "Target",
    "load_targets",
    "notify_test",
    "open_alerter",
    "parse_quiet",
    "send_test",
]
