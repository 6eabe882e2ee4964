"""Celery doors into the forum's notifications. Pass IDs; every task is safe to run twice."""

import smtplib

from celery import shared_task

from forum import notifications
from helpdesk.celery import FrontlineTask


class ForumMailTask(FrontlineTask):
    """Retries SMTP trouble with backoff; recipients already mailed are skipped on a retry."""

    autoretry_for = (smtplib.SMTPException, OSError, TimeoutError)


@shared_task(base=ForumMailTask)
def notify_new_post(post_id: int) -> int:
    return notifications.new_post(post_id)


@shared_task(base=ForumMailTask)
def notify_idea_status(change_id: int) -> int:
    return notifications.idea_status_changed(change_id)


@shared_task(base=ForumMailTask)
def notify_thread_moved(thread_id: int) -> int:
    return notifications.thread_moved(thread_id)
