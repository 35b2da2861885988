#!/usr/bin/env python3
"""A minimal Hugging Face hub on 127.0.0.1 for tests, answering exactly what hf-hub 1.0 asks.

Downloads (any repository; `../shared/data/planetoid` is the dataset repo `<owner>/<name>` under `data/`,
and whatever was pushed is served from memory):
  HEAD/GET /datasets/{owner}/{name}/resolve/{rev}/{path}   ETag: "<sha256>", X-Repo-Commit: <40 hex>
  HEAD/GET /{owner}/{name}/resolve/{rev}/{path}            (model repositories)
  GET /api/datasets/{owner}/{name}/revision/{rev}          {"id", "sha", "siblings": [{"rfilename"}]}
  GET /api/datasets/{owner}/{name}/tree/{rev}              [{"type": "file", "oid", "size", "path"}]
Uploads (need `Authorization: Bearer <token>`, else 401):
  POST /api/repos/create            {"name", "organization", "type", "private"} -> {"url"}; 409 if it exists
  POST /api/{models|datasets}/{owner}/{name}/preupload/{rev}   {"files": [{"path", "size", "sample"}]}
                                    -> {"files": [{"path", "uploadMode": "regular"}]} (so no LFS / xet)
  POST /api/{models|datasets}/{owner}/{name}/commit/{rev}      NDJSON: a header line, then one
                                    {"key": "file", "value": {"path", "content" (base64), "encoding"}} per
                                    file; applied all at once -> {"commitOid", "commitUrl"}

  mock_hub.py --root DIR --port-file FILE [--corrupt ind.cora.graph] [--tamper PATH] [--drop-commits N]
              [--log FILE]
--corrupt / --tamper serve that file with one byte flipped (the ETag still that of the true bytes);
--drop-commits N reads the first N commit bodies and closes the connection without applying or answering
them (an interrupted upload); --log appends "METHOD path" per request. Binds to loopback only, on a free
port written to FILE. Exits when stdin closes or after --lifetime s.
"""
import argparse, base64, hashlib, json, os, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--corrupt", default=None, help="serve this Planetoid file with one byte flipped")
    ap.add_argument("--tamper", default=None, help="serve this pushed file with one byte flipped")
    ap.add_argument("--drop-commits", type=int, default=0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()
    folder = os.path.join(args.root, "planetoid")
    lock = threading.Lock()
    # (kind, "owner/name") -> {"private": bool, "files": {path: bytes}, "commit": sha}
    repos = {}
    drops = [args.drop_commits]

    def flip(data):
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
        return bytes(data)

    def planetoid(name):
        path = os.path.join(folder, name)
        if "/" in name or not os.path.isfile(path):
            return None
        data = open(path, "rb").read()
        return flip(data) if name == args.corrupt else data

    def pushed(kind, repo, path):
        with lock:
            r = repos.get((kind, repo))
            return None if r is None else (r["files"].get(path), r["commit"])

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

        def json(self, code, value):
            self.reply(code, json.dumps(value).encode(), {"Content-Type": "application/json"})

        def record(self):
            if args.log:
                with lock, open(args.log, "a") as f:
                    f.write(f"{self.command} {urllib.parse.urlsplit(self.path).path}\n")

        def parts(self):
            return [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(self.path).path.split("/") if p]

        def serve_file(self, data, head, name=None, commit=COMMIT):
            if data is None:
                return self.reply(404, b"not found", {"X-Error-Code": "EntryNotFound"}, head)
            etag = hashlib.sha256(data).hexdigest()
            if name is not None and name == args.tamper:
                data = flip(data)
            self.reply(200, data, {"ETag": f'"{etag}"', "X-Repo-Commit": commit,
                                   "Content-Type": "application/octet-stream"}, head)

        def route(self, head):
            self.record()
            p = self.parts()
            # Pushed files: /datasets/{o}/{n}/resolve/{rev}/{path...} or /{o}/{n}/resolve/{rev}/{path...}
            for kind, q in (("dataset", p[1:]) if p[:1] == ["datasets"] else ("model", p),):
                if len(q) >= 5 and q[2] == "resolve":
                    hit = pushed(kind, f"{q[0]}/{q[1]}", "/".join(q[4:]))
                    if hit is not None:
                        return self.serve_file(hit[0], head, "/".join(q[4:]), hit[1])
                    if kind == "model":
                        return self.reply(404, b"repository not found", {"X-Error-Code": "RepoNotFound"}, head)
            # /datasets/{owner}/{name}/resolve/{rev}/data/{file}
            if len(p) == 7 and p[0] == "datasets" and p[3] == "resolve" and p[5] == "data":
                return self.serve_file(planetoid(p[6]), head)
            files = sorted(f for f in os.listdir(folder) if f.startswith("ind."))
            if len(p) == 6 and p[:2] == ["api", "datasets"] and p[4] == "revision":
                body = json.dumps({"id": f"{p[2]}/{p[3]}", "sha": COMMIT,
                                   "siblings": [{"rfilename": f"data/{f}"} for f in files]}).encode()
                return self.reply(200, body, {"Content-Type": "application/json"}, head)
            if len(p) >= 6 and p[:2] == ["api", "datasets"] and p[4] == "tree":
                body = json.dumps([{"type": "file", "oid": hashlib.sha1(planetoid(f)).hexdigest(),
                                    "size": len(planetoid(f)), "path": f"data/{f}"} for f in files]).encode()
                return self.reply(200, body, {"Content-Type": "application/json"}, head)
            self.reply(404, b"not found", {}, head)

        def do_HEAD(self):
            self.route(True)

        def do_GET(self):
            self.route(False)

        def do_POST(self):
            self.record()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                return self.json(401, {"error": "Invalid credentials in Authorization header"})
            p = self.parts()
            if p == ["api", "repos", "create"]:
                req = json.loads(body)
                repo = f"{req.get('organization') or 'user'}/{req['name']}"
                with lock:
                    key = (req.get("type", "model"), repo)
                    if key in repos:
                        return self.json(409, {"error": "You already created this repo"})
                    repos[key] = {"private": bool(req.get("private")), "files": {}, "commit": "0" * 40}
                return self.json(200, {"url": f"http://hub/{repo}"})
            if len(p) == 6 and p[0] == "api" and p[1] in ("models", "datasets") and p[4] in ("preupload", "commit"):
                key = (p[1][:-1], f"{p[2]}/{p[3]}")
                with lock:
                    if key not in repos:
                        return self.json(404, {"error": "Repository not found"})
                if p[4] == "preupload":
                    files = json.loads(body)["files"]
                    return self.json(200, {"files": [{"path": f["path"], "uploadMode": "regular"} for f in files]})
                with lock:
                    if drops[0] > 0:
                        drops[0] -= 1
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                lines = [json.loads(l) for l in body.decode().splitlines() if l.strip()]
                if not lines or lines[0].get("key") != "header":
                    return self.json(400, {"error": "the first line must be the header"})
                new = {}
                for l in lines[1:]:
                    if l["key"] != "file" or l["value"].get("encoding") != "base64":
                        return self.json(400, {"error": f"unsupported operation {l['key']}"})
                    new[l["value"]["path"]] = base64.b64decode(l["value"]["content"])
                with lock:
                    r = repos[key]
                    r["files"].update(new)
                    digest = hashlib.sha1(r["commit"].encode() + json.dumps(sorted(new)).encode())
                    r["commit"] = digest.hexdigest()
                    return self.json(200, {"commitOid": r["commit"], "commitUrl": f"http://hub/{key[1]}/commit/{r['commit']}"})
            self.json(404, {"error": "not found"})

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
