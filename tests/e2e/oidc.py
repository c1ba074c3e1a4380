"""A real OpenID Connect provider for the sign-in tests: ``oidc-provider-mock`` in a process
of its own, its people given as claims (their address, and whether the provider vouches
for it). A browser signs in by typing an address into its authorisation form."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.postgres import free_port

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Provider:
    def __init__(self, people: dict[str, bool], log: Path) -> None:
        """``people``: e-mail address → whether the provider confirms it (email_verified)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        claims = [
            json.dumps({"sub": email, "email": email, "email_verified": verified})
            for email, verified in people.items()
        ]
        cmd = [sys.executable, "-m", "oidc_provider_mock", "--port", str(self.port)]
        for claim in claims:
            cmd += ["--user-claims", claim]
        self.log = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with _NO_PROXY.open(self.metadata_url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the OIDC provider did not start:\n{log.read_text()}")
            time.sleep(0.2)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def secrets(self, app_url: str, path: Path) -> Path:
        """A ``secrets.toml`` whose [auth] section signs people in with this provider."""
        path.write_text(
            "[auth]\n"
            f'redirect_uri = "{app_url}/oauth2callback"\n'
            'cookie_secret = "a test cookie secret, long enough to sign cookies"\n'
            'client_id = "kpilab"\n'
            'client_secret = "kpilab test secret"\n'
            f'server_metadata_url = "{self.metadata_url}"\n'
        )
        return path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
