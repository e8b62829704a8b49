"""gunicorn settings for ``kehu serve`` (and ``gunicorn -c config/gunicorn.conf.py``).

Sync workers: on this stack they outrun threads for short database-bound requests
(docs/architecture.md). ``kehu serve`` forces one gthread worker on SQLite.
"""

import multiprocessing
import os

bind = os.environ.get("KEHU_BIND", "127.0.0.1:6543")
workers = int(os.environ.get("KEHU_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = os.environ.get("KEHU_WORKER_CLASS", "sync")
threads = int(os.environ.get("KEHU_THREADS", 1))
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 10000
max_requests_jitter = 1000
# Trust X-Forwarded-Proto from the reverse proxy on this machine, so https is known and the
# session cookie gets its Secure flag.
forwarded_allow_ips = os.environ.get("KEHU_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
# gunicorn's control socket is one path per user: two servers on one machine would fight over it.
control_socket_disable = True
