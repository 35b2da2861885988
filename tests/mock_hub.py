#!/usr/bin/env python3
"""A minimal Hugging Face hub on 127.0.0.1 for tests: serves ../shared/data/planetoid as the dataset repo
`<owner>/<name>` with the files under `data/`, answering exactly what hf-hub 1.0 asks for a download
(HEAD + GET /datasets/{repo}/resolve/{rev}/{path} with ETag and X-Repo-Commit), plus repo info and tree.

  mock_hub.py --root DIR --port-file FILE [--corrupt ind.cora.graph]
Binds to loopback only, on a free port written to FILE. Exits when stdin closes or after --lifetime s.
"""
import argparse, hashlib, json, os, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--corrupt", default=None, help="serve this file with one byte flipped")
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()
    folder = os.path.join(args.root, "planetoid")

    def content(name):
        path = os.path.join(folder, name)
        if "/" in name or not os.path.isfile(path):
            return None
        data = open(path, "rb").read()
        if name == args.corrupt:
            data = bytearray(data); data[len(data) // 2] ^= 0xFF; data = bytes(data)
        return data

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("mock-hub: " + fmt % a + "\n")

        def reply(self, code, body=b"", headers=None, head=False):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def route(self, head):
            parts = [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(self.path).path.split("/") if p]
            # /datasets/{owner}/{name}/resolve/{rev}/data/{file}
            if len(parts) == 7 and parts[0] == "datasets" and parts[3] == "resolve" and parts[5] == "data":
                data = content(parts[6])
                if data is None:
                    return self.reply(404, b"not found", {"X-Error-Code": "EntryNotFound"}, head)
                etag = hashlib.sha256(data).hexdigest()
                return self.reply(200, data, {"ETag": f'"{etag}"', "X-Repo-Commit": COMMIT,
                                              "Content-Type": "application/octet-stream"}, head)
            files = sorted(f for f in os.listdir(folder) if f.startswith("ind."))
            # /api/datasets/{owner}/{name}/revision/{rev}
            if len(parts) == 6 and parts[:2] == ["api", "datasets"] and parts[4] == "revision":
                body = json.dumps({"id": f"{parts[2]}/{parts[3]}", "sha": COMMIT,
                                   "siblings": [{"rfilename": f"data/{f}"} for f in files]}).encode()
                return self.reply(200, body, {"Content-Type": "application/json"}, head)
            # /api/datasets/{owner}/{name}/tree/{rev}
            if len(parts) >= 6 and parts[:2] == ["api", "datasets"] and parts[4] == "tree":
                body = json.dumps([{"type": "file", "oid": hashlib.sha1(content(f)).hexdigest(),
                                    "size": len(content(f)), "path": f"data/{f}"} for f in files]).encode()
                return self.reply(200, body, {"Content-Type": "application/json"}, head)
            self.reply(404, b"not found", {}, head)

        def do_HEAD(self):
            self.route(True)

        def do_GET(self):
            self.route(False)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)
    threading.Timer(args.lifetime, srv.shutdown).start()
    threading.Thread(target=lambda: (sys.stdin.read(), srv.shutdown()), daemon=True).start()
    srv.serve_forever()

if __name__ == "__main__":
    main()
