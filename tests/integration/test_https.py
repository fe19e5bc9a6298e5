"""The OpenAI-compatible engine over HTTPS and through an HTTPS proxy (CONNECT).

The server is tests/support/faultserver.py behind a real TLS certificate for 127.0.0.1 (made here with
``cryptography``); the proxy is a small CONNECT relay, since no real proxy is reachable here.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import llamabook as lb
from support.faultserver import MODEL, FaultServer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return str(cert_path), str(key_path)


@pytest.fixture
def https_server(certificate: tuple[str, str]) -> Iterator[FaultServer]:
    server = FaultServer(tls=certificate).start()
    yield server
    server.stop()


class ConnectProxy:
    """Accepts CONNECT host:port, then relays bytes both ways; records what it was asked."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        line = head.split(b"\r\n", 1)[0].decode()
        self.requests.append(line)
        host, port = line.split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = {client: upstream, upstream: client}
        while True:
            ready, _, _ = select.select(list(pair), [], [], 5)
            if not ready:
                break
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    client.close(), upstream.close()
                    return
                pair[sock].sendall(data)

    def close(self) -> None:
        self.listener.close()


def _client(home: Path, url: str) -> lb.Client:
    return lb.Client(home, engine=lb.OpenAICompatibleEngine(url, models=[MODEL], max_retries=0, timeout=10))


def test_https_with_a_trusted_certificate(tmp_path: Path, https_server: FaultServer, certificate: tuple[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    assert https_server.url.startswith("https://")
    with _client(tmp_path, https_server.url) as client:
        first = client.responses.create(input="hello over tls")
        engine = client.backend.engines[0]
        sock = engine.http()._connection().sock
        second = client.responses.create(input="again")
        assert engine.http()._connection().sock is sock  # one TLS connection, kept alive
    assert (first.output_text, second.output_text) == ("echo: hello over tls", "echo: again")


def test_an_untrusted_certificate_is_a_clear_error_and_not_retried(tmp_path: Path, https_server: FaultServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    engine = lb.OpenAICompatibleEngine(https_server.url, models=[MODEL], max_retries=3, timeout=10)
    with lb.Client(tmp_path, engine=engine) as client:
        with pytest.raises(lb.EngineError, match="TLS .* failed .*certificate.*SSL_CERT_FILE") as caught:
            client.responses.create(input="refused")
        assert not caught.value.retryable
        assert client.responses.list() == []  # nothing stored
    assert https_server.total_calls() == 0


def test_https_through_a_connect_proxy(tmp_path: Path, https_server: FaultServer, certificate: tuple[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        for name in ("NO_PROXY", "no_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        with _client(tmp_path, https_server.url) as client:
            answer = client.responses.create(input="via the proxy")
        port = https_server.url.split(":")[2].split("/")[0]
        assert answer.output_text == "echo: via the proxy"
        assert [r.rsplit(" ", 1)[0] for r in proxy.requests] == [f"CONNECT 127.0.0.1:{port}"]  # one tunnel
    finally:
        proxy.close()
