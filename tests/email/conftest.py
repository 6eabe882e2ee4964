"""Real parts for the email tests: a Dovecot IMAP/POP3 server, an SMTP server (aiosmtpd) and
a Celery worker process, all on 127.0.0.1 and torn down after each test."""

import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from helpdesk.celery import app as celery_app
from helpdesk.celery import solo_worker_argv
from tests.conftest import missing_real_part
from tickets.models import Queue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def support_queue(db):
    return Queue.objects.create(
        name="Support",
        slug="support",
        email_address="support@frontline.localhost",
        inbound_token="t0ken-for-tests",
    )


@pytest.fixture
def ingest(django_capture_on_commit_callbacks):
    """Store a raw message and run its processing (queued on commit) inside the test."""
    from tickets.services.email import store_inbound

    def ingest(raw: bytes, queue=None, source="pipe"):
        with django_capture_on_commit_callbacks(execute=True):
            row, _created = store_inbound(raw=raw, source=source, queue=queue)
        row.refresh_from_db()
        return row

    return ingest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=60, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class Dovecot:
    user = "support"
    password = "s3cret-mailbox"

    def __init__(self, root: Path):
        self.root = root
        self.imap_port = free_port()
        self.pop3_port = free_port()

    def start(self):
        root = self.root
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "mail").chmod(0o777)
        if os.getuid() == 0:
            # Dovecot refuses to store mail as root; the mailbox belongs to `nobody`.
            uid, gid = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
            internal, login = "dovecot", "dovenull"
        else:
            uid, gid = os.getuid(), os.getgid()
            internal = login = getpass.getuser()
        (root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{root}/mail/{self.user}::\n"
        )
        (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 0
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
        subprocess.run([shutil.which("dovecot"), "-c", str(root / "dovecot.conf")], check=True)
        wait_for(lambda: _port_open(self.imap_port), timeout=20, message="dovecot to listen")

    def stop(self):
        """SIGTERM to the master (its pid file), then SIGKILL if it lingers; `doveadm stop`
        can hang waiting on a child."""
        pid_file = self.root / "run" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)

    def imap(self):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.imap_port)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder="INBOX"):
        conn = self.imap()
        try:
            typ, _ = conn.append(folder, None, None, raw)
            assert typ == "OK"
        finally:
            conn.logout()


def _port_open(port) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def dovecot():
    if not shutil.which("dovecot"):
        missing_real_part(
            "Dovecot is not installed (Debian packages dovecot-imapd dovecot-pop3d; .ci/run installs them)"
        )
    # Dovecot's own users must reach the config, so not under pytest's private (0700) tmp dir.
    root = Path(tempfile.mkdtemp(prefix="frontline-dovecot-"))
    root.chmod(0o755)
    server = Dovecot(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
                sink.messages.append(envelope.original_content or envelope.content)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def parsed(self):
        import email
        import email.policy

        return [email.message_from_bytes(m, policy=email.policy.default) for m in self.messages]


@pytest.fixture
def smtp_server(settings):
    sink = SmtpSink()
    sink.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.controller.stop()


class WorkerProcess:
    """A real `celery worker` process using the test database and media folder."""

    def __init__(self, env):
        self.env = env
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            solo_worker_argv(f"emailtest-{os.getpid()}-{time.monotonic_ns()}@%h", loglevel="INFO"),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def output(self) -> str:
        if self.proc and self.proc.poll() is not None and self.proc.stdout:
            return self.proc.stdout.read().decode(errors="replace")
        return ""


def test_db_env(settings) -> dict:
    """Environment for a subprocess (worker, manage.py) that uses this run's test database."""
    env = os.environ.copy()
    db = connection.settings_dict
    env["SECRET_KEY"] = settings.SECRET_KEY
    env["CELERY_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        url = os.environ["DATABASE_URL"]
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + db["NAME"]
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        env.update(
            EMAIL_HOST=settings.EMAIL_HOST, EMAIL_PORT=str(settings.EMAIL_PORT), EMAIL_USE_TLS="0"
        )
    return env


@pytest.fixture
def worker_env(transactional_db, settings):
    """Environment for a worker that sees what this test writes (committed: transactional_db)."""
    env = test_db_env(settings)
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    yield env
    # Late acknowledgement requeues what a killed worker held: leave the queue empty for the
    # next test's worker.
    celery_app.control.purge()
    celery_app.conf.task_always_eager = True


@pytest.fixture
def start_worker(worker_env):
    workers = []

    def start():
        worker = WorkerProcess(worker_env).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
