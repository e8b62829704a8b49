"""gunicorn settings for ``kehu serve`` (and ``gunicorn -c config/gunicorn.conf.py``).

Sync workers: on this stack they outrun threads for short database-bound requests
(docs/architecture.md). ``kehu serve`` forces one gthread worker on SQLite.
"""

import multiprocessing
import os

bind = os.environ.get("KEHU_BIND", "127.0.0.1:6543")
# One worker per core and one more (not the usual 2 × cores + 1): Kehu's pages are CPU-bound in
# Python with the database close by, and extra processes only take turns on the same cores.
# Measured on 2 cores, customer view at 100 users (docs/performance.md): 3 workers 105 TPS,
# p95 1.0 s; 5 workers 80 TPS, 1.4 s; 8 workers 77 TPS, 1.5 s; 3 × 4 gthread 97 TPS, 2.2 s.
workers = int(os.environ.get("KEHU_WORKERS", min(multiprocessing.cpu_count() + 1, 8)))
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
