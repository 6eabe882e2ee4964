from celery import shared_task


@shared_task
def ping(value: str = "pong") -> dict:
    """Echo back through the broker: used by /healthz checks and the worker test."""
    import os

    return {"value": value, "pid": os.getpid()}
