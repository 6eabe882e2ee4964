#!/usr/bin/env bash
# End-to-end load: gunicorn with 2 workers on 127.0.0.1, wrk with 8 connections for 20 s on the
# agents' queue page and a KB article. Uses the database the environment points at (run it
# after `manage.py seed_bench`). Bounded: two 20-second runs against loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8100}"
PY=.venv/bin/python
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
export DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1 PUBLIC_FORM_RATE_LIMIT=1000000
read -r COOKIE ARTICLE < <($PY manage.py shell -c "
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from helpdesk.models import User
from kb.models import Article
u = User.objects.filter(role='agent').order_by('pk').first()
s = SessionStore(); s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create()
a = Article.objects.filter(status='published', visibility='public').order_by('-view_count').first()
print(s.session_key, a.get_absolute_url())" 2>/dev/null | tail -1)
.venv/bin/gunicorn helpdesk.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --log-level warning &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null; wait $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz/live" >/dev/null && break; sleep 0.2; done
echo "queue page (agent):"
wrk -t2 -c8 -d20s -s bench/p95.lua -H "Cookie: sessionid=$COOKIE" "http://127.0.0.1:$PORT/tickets/queue/" | tail -1
echo "KB article (anonymous): $ARTICLE"
wrk -t2 -c8 -d20s -s bench/p95.lua "http://127.0.0.1:$PORT$ARTICLE" | tail -1
