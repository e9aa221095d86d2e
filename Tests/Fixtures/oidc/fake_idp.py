#!/usr/bin/env python3
"""A fake OpenID Connect provider for Enclave's tests: an implementation independent of Enclave's.

Keys and tokens are made with PyJWT and cryptography (PyPI), so the Swift verifier is checked against
tokens it did not sign itself. Serves on loopback (stdlib http.server):

  GET /.well-known/openid-configuration   discovery (issuer = this server, or --discovery-issuer)
  GET /jwks                               public keys (RSA + EC signing keys, and an RSA encryption
                                          key as Keycloak publishes, which verifiers must ignore)
  GET /mint?alg=RS256|ES256|none|HS256-public-key&kid=…&claims=<json>
                                          a token; kid overrides the header's kid (default: the
                                          current key of that alg); claims are used as given
  GET /rotate?alg=RS256|ES256             replaces that alg's key with a new one (new kid)
  GET /stats                              {"jwks_fetches": n, "discovery_fetches": n}
  GET /login-as?claims=<json>             the claims of the user the next /authorize signs in
  GET /authorize?…                        authorization code + PKCE S256: signs that user in at once and
                                          redirects to redirect_uri with code and state
  POST /token                             redeems a code (PKCE checked; client secret checked with
                                          HTTP Basic when --client-secret is given): RS256 access token
                                          (the login-as claims + iss/iat/exp) and id token (aud =
                                          client_id, nonce)

Prints "READY <port>" on stdout once listening; stops when stdin closes (its parent went away).
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {"RS256": self.new_key("RS256"), "ES256": self.new_key("ES256")}
        self.encryption_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self.login_claims = {}
        self.codes = {}

    @staticmethod
    def new_key(alg):
        kid = f"{alg.lower()}-{uuid.uuid4().hex[:12]}"
        if alg == "RS256":
            return kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid, ec.generate_private_key(ec.SECP256R1())

    def jwks(self):
        with self.lock:
            self.jwks_fetches += 1
            keys = []
            for alg, (kid, key) in self.keys.items():
                codec = RSAAlgorithm if alg == "RS256" else ECAlgorithm
                jwk = json.loads(codec.to_jwk(key.public_key()))
                # Entra ID publishes RSA keys without "alg"; Keycloak with it. Do both.
                jwk.update({"kid": kid, "use": "sig"})
                if alg == "ES256":
                    jwk["alg"] = "ES256"
                keys.append(jwk)
            enc = json.loads(RSAAlgorithm.to_jwk(self.encryption_key.public_key()))
            enc.update({"kid": "enc-key", "use": "enc", "alg": "RSA-OAEP"})
            keys.append(enc)
            return {"keys": keys}

    def mint(self, alg, kid, claims):
        with self.lock:
            if alg == "none":
                return jwt.encode(claims, None, algorithm="none", headers={"kid": kid} if kid else None)
            if alg == "HS256-public-key":
                # Classic algorithm confusion: HMAC "signed" with the RSA public key (PEM) as secret.
                # PyJWT refuses to do this, so the token is assembled by hand.
                rsa_kid, rsa_key = self.keys["RS256"]
                secret = rsa_key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                header = {"alg": "HS256", "typ": "JWT", "kid": kid or rsa_kid}
                signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
                signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
                return signing_input + "." + b64url(signature)
            key_kid, key = self.keys[alg]
            return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid or key_kid})

    def rotate(self, alg):
        with self.lock:
            self.keys[alg] = self.new_key(alg)
            return self.keys[alg][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--discovery-issuer", help="issuer to report in discovery (default: this server's URL)")
    parser.add_argument("--client-secret", help="the confidential client's secret the token endpoint requires")
    args = parser.parse_args()
    provider = Provider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def reply(self, status, body, content_type="application/json"):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            try:
                if url.path == "/.well-known/openid-configuration":
                    with provider.lock:
                        provider.discovery_fetches += 1
                    self.reply(200, {
                        "issuer": args.discovery_issuer or base,
                        "jwks_uri": base + "/jwks",
                        "authorization_endpoint": base + "/authorize",
                        "token_endpoint": base + "/token",
                        "end_session_endpoint": base + "/logout",
                        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                    })
                elif url.path == "/jwks":
                    self.reply(200, provider.jwks())
                elif url.path == "/mint":
                    claims = json.loads(query.get("claims", "{}"))
                    self.reply(200, provider.mint(query.get("alg", "RS256"), query.get("kid"), claims), "text/plain")
                elif url.path == "/rotate":
                    self.reply(200, provider.rotate(query.get("alg", "RS256")), "text/plain")
                elif url.path == "/login-as":
                    with provider.lock:
                        provider.login_claims = json.loads(query.get("claims", "{}"))
                    self.reply(200, "ok", "text/plain")
                elif url.path == "/authorize":
                    if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
                        self.reply(400, {"error": "invalid_request"})
                        return
                    code = uuid.uuid4().hex
                    with provider.lock:
                        provider.codes[code] = {
                            "claims": dict(provider.login_claims), "nonce": query.get("nonce"),
                            "challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"],
                            "client_id": query["client_id"],
                        }
                    separator = "&" if "?" in query["redirect_uri"] else "?"
                    location = f"{query['redirect_uri']}{separator}code={code}&state={query.get('state', '')}"
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/stats":
                    with provider.lock:
                        self.reply(200, {"jwks_fetches": provider.jwks_fetches,
                                         "discovery_fetches": provider.discovery_fetches})
                else:
                    self.reply(404, {"error": "not found"})
            except Exception as error:  # a test helper: say what went wrong
                self.reply(500, {"error": repr(error)})

        def do_POST(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if url.path != "/token":
                self.reply(404, {"error": "not found"})
                return
            with provider.lock:
                grant = provider.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("grant_type") != "authorization_code":
                self.reply(400, {"error": "invalid_grant"})
                return
            if args.client_secret is not None:
                expected = "Basic " + base64.b64encode(f"{grant['client_id']}:{args.client_secret}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.reply(401, {"error": "invalid_client"})
                    return
            verifier = form.get("code_verifier", "")
            challenge = b64url(hashlib.sha256(verifier.encode()).digest())
            if challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
                self.reply(400, {"error": "invalid_grant"})
                return
            now = int(time.time())
            issuer = args.discovery_issuer or base
            access = dict(grant["claims"], iss=issuer, iat=now, nbf=now, exp=now + 3600)
            id_claims = dict(grant["claims"], iss=issuer, aud=grant["client_id"], iat=now, exp=now + 3600)
            if grant["nonce"]:
                id_claims["nonce"] = grant["nonce"]
            self.reply(200, {
                "access_token": provider.mint("RS256", None, access),
                "id_token": provider.mint("RS256", None, id_claims),
                "token_type": "Bearer", "expires_in": 3600,
            })

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the parent closes stdin or exits
    server.shutdown()


if __name__ == "__main__":
    main()
