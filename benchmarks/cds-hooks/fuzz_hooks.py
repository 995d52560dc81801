"""Schemathesis hooks for fuzzing the Rounds CDS Hooks service: every generated call gets a
fresh ES384 client token (iss, aud = the endpoint called, exp, iat, a new jti), as CDS Hooks
2.0 requires, so that the fuzz reaches the endpoints instead of stopping at 401."""
import os
import time
import uuid

import jwt
import schemathesis

KEY = open(os.environ["ROUNDS_FUZZ_KEY"]).read()
ISS = os.environ.get("ROUNDS_FUZZ_ISS", "https://fuzz.test")
BASE = os.environ["ROUNDS_FUZZ_BASE"]


@schemathesis.auth(refresh_interval=None)
class ClientJWT:
    def get(self, case, context):
        return "unused"

    def set(self, case, data, context):
        path = case.formatted_path
        now = int(time.time())
        token = jwt.encode({"iss": ISS, "aud": BASE + path, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())},
                           KEY, algorithm="ES384")
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + token
