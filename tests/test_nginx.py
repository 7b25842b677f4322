"""Debian's nginx in front of `asr-billing serve` with the shipped site
(deploy/nginx/asr-billing.conf and its proxy snippet), TLS with a self-signed certificate:
the billing sees the client's own address, a spoofed X-Forwarded-For from outside changes
nothing, and the admin's login works over HTTPS (CSRF's origin check sees the scheme)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live_server import clean_env, free_port, serve, stop_process

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(NGINX) and not os.environ.get("CI"),
                       reason="needs Debian's nginx (apt-get install nginx-light); CI has it"),
]


def curl(*args: str) -> tuple[int, str]:
    done = subprocess.run(["curl", "-s", "-k", "-w", "\n%{http_code}", *args],  # noqa: S603, S607
                          capture_output=True, text=True, timeout=60)
    body, _sep, status = done.stdout.rpartition("\n")
    return int(status or 0), body


def site(upstream: int, http: int, https: int, folder: Path) -> Path:
    """The shipped site with this test's ports, certificate and snippet path."""
    text = (ROOT / "deploy/nginx/asr-billing.conf").read_text()
    text = text.replace("127.0.0.1:8082", f"127.0.0.1:{upstream}")
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{http};", text)
    text = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;", text)
    text = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", text)
    text = text.replace("/etc/ssl/certs/billing.example.net.pem", str(folder / "cert.pem"))
    text = text.replace("/etc/ssl/private/billing.example.net.key", str(folder / "key.pem"))
    text = text.replace("/etc/nginx/snippets/asr-billing-proxy.conf",
                        str(ROOT / "deploy/nginx/asr-billing-proxy.conf"))
    main = folder / "nginx.conf"
    main.write_text(f"""
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{text}
}}
""")
    return main


def test_nginx_in_front(tmp_path):
    home = tmp_path / "home"
    env = clean_env(home)
    cli = [sys.executable, "-m", "asr_billing"]
    subprocess.run([*cli, "init", "--demo", "--home", str(home)], env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=600)
    for key, value in (("api.trusted_proxies", "127.0.0.1"), ("api.allowed_ips", "127.0.0.2")):
        subprocess.run([*cli, "config", "set", "network", key, value, "--home", str(home)],  # noqa: S603
                       env=env, check=True, capture_output=True, timeout=60)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # noqa: S603, S607
                    "-subj", "/CN=billing.example.net", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    http, https = free_port(), free_port()
    server, upstream = serve(home, tmp_path / "serve.log", workers=None)
    conf = site(upstream, http, https, tmp_path)
    nginx = None
    try:
        check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)  # noqa: S603 - fixed argv
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"])  # noqa: S603
        deadline = time.monotonic() + 30
        while curl(f"http://127.0.0.1:{http}/health")[0] != 200:
            assert time.monotonic() < deadline, (tmp_path / "error.log").read_text()
            time.sleep(0.2)
        bare = f"http://127.0.0.1:{http}/system_api/"
        # From 127.0.0.2 (allowed) through nginx: the billing sees 127.0.0.2, not nginx.
        status, body = curl("--interface", "127.0.0.2", bare)
        assert status == 400 and "/system_api/?context=" in body
        # From 127.0.0.3 claiming to be 127.0.0.2: nginx replaces the header.
        status, body = curl("--interface", "127.0.0.3", "-H", "X-Forwarded-For: 127.0.0.2", bare)
        assert status == 403 and "127.0.0.3" in body, body
        # Other paths go to HTTPS; the admin login works there (CSRF sees https).
        status, _ = curl(f"http://127.0.0.1:{http}/admin/login/")
        assert status == 301
        jar = tmp_path / "cookies"
        base = f"https://127.0.0.1:{https}"
        status, page = curl("-c", str(jar), f"{base}/admin/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        username, password = (home / "var" / "demo-admin").read_text().split()
        status, _ = curl("-b", str(jar), "-c", str(jar), "-H", f"Origin: {base}",
                         "-e", f"{base}/admin/login/", "--data-urlencode",
                         f"csrfmiddlewaretoken={token}", "--data-urlencode",
                         f"username={username}", "--data-urlencode", f"password={password}",
                         f"{base}/admin/login/?next=/admin/")
        assert status == 302, "the admin login over HTTPS was refused"
        status, page = curl("-b", str(jar), f"{base}/admin/")
        assert status == 200 and "logout" in page.lower()
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=30)
        stop_process(server)
        shutil.rmtree(tmp_path / "proxy", ignore_errors=True)
