"""Role checks, in one place. Views use the decorators; templates use user.is_agent/is_admin."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404


def is_agent(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_agent)


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                # 404, not 403: staff pages do not advertise themselves to customers.
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


agent_required = _role_required(is_agent)
admin_required = _role_required(is_admin)
