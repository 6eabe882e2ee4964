from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    """Every web process must sign with the same key: production sets SECRET_KEY."""
    if settings.SECRET_KEY_FROM_ENV:
        return []
    return [
        Warning(
            "SECRET_KEY is not set in the environment; a key generated under var/ is used.",
            hint="Set SECRET_KEY to a long random value shared by every web process.",
            id="helpdesk.W001",
        )
    ]
