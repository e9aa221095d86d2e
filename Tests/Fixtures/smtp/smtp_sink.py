"""A real SMTP server for Enclave's notification tests (aiosmtpd): every accepted mail becomes a JSON file.

Usage: smtp_sink.py OUTDIR [--tls-cert CERT --tls-key KEY] [--user NAME --password SECRET]
With a certificate, STARTTLS is required before MAIL; with a user, AUTH is required (and needs TLS).
Writes OUTDIR/port once listening; each mail as OUTDIR/mail-<n>.json {mailFrom, rcptTos, headers, body, tls, login}.
"""
import argparse
import email
import email.header
import json
import os
import signal
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        payload = message.get_payload(decode=True)
        headers = {}
        for key, value in message.items():
            headers[key] = str(email.header.make_header(email.header.decode_header(value)))
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "headers": headers,
            "body": payload.decode("utf-8") if payload is not None else "",
            "tls": session.ssl is not None,
            "login": session.auth_data if isinstance(session.auth_data, str) else None,
        }
        path = os.path.join(self.outdir, "mail-%d.json" % self.count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
            if not ok:
                # handled=False: aiosmtpd answers 535 itself (the default would leave the client waiting).
                return AuthResult(success=False, handled=False)
            return AuthResult(success=True, auth_data=auth_data.login.decode())
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls_cert))

    # The test stops the sink with SIGTERM; a parent that ignores it must not leave the sink running.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    controller = Controller(Sink(args.outdir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    with open(os.path.join(args.outdir, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(args.outdir, "port.tmp"), os.path.join(args.outdir, "port"))
    try:
        while True:
            time.sleep(1)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
