"""A stand-in for Razorpay's and Stripe's APIs during the schemathesis run:
it makes subscriptions and Checkout Sessions (and answers what the app may
ask of them), so checkout answers as it would in production. The real
flows are tested in tests/it/subscriptions against the Rust fakes."""

import itertools
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counter = itertools.count(1)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        n = next(counter)
        if self.path == "/v1/subscriptions":
            self.answer({"id": f"sub_Fuzz{n:06d}", "entity": "subscription", "status": "created",
                         "short_url": f"https://rzp.io/i/fuzz{n}", "notes": {}})
        elif self.path == "/v1/checkout/sessions":
            self.answer({"id": f"cs_fuzz_{n}", "url": f"https://checkout.stripe.test/c/pay/cs_fuzz_{n}"})
        elif self.path == "/v1/billing_portal/sessions":
            self.answer({"id": f"bps_{n}", "url": "https://billing.stripe.test/p/session/fuzz"})
        else:
            self.answer({"error": {"code": "BAD_REQUEST_ERROR", "description": "not in the fake"}}, 400)

    def do_GET(self):
        self.answer({"error": {"code": "BAD_REQUEST_ERROR", "description": "not in the fake"}}, 400)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
