#!/usr/bin/env python3
"""Side-by-side scheduler measurements: our server vs llama-server, alternating, same GGUF.

Both servers run at once (idle between their turns) on 127.0.0.1. Workloads (streaming /v1/completions, greedy):
  arrivals  N requests with distinct prompts sent at the same instant: TTFT p50/max, aggregate tok/s
  prefix    a 1,000-token prefix + 10 new tokens after a warm-up request with the same prefix: TTFT
  fork      two requests with the same 1,000-token prefix at once, after the prefix is cached: TTFT max
Prints one table: metric | ours | ratio | spread (min-max of per-round ratios) | llama-server; with --baseline
DLL (another build of our server, e.g. before a change) a third server runs too and the table shows before and after.
Run from the repository root after `dotnet build -c Release`, e.g.
  python3 benchmarks/scheduler-side-by-side.py --model /path/llama3.2-1b-q4_k_m.gguf --llama-server /path/llama-server \
      --pairs 3 --arrival-prompt 16 --arrival-tokens 32 --workloads arrivals
Python standard library only; talks to 127.0.0.1 only.
"""
import argparse, http.client, json, os, random, signal, statistics, subprocess, sys, tempfile, threading, time

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an had "
         "they you were their one all we can her has there been if more when will would who so no time people water "
         "house world city river small large story light night day year work school book music garden table window "
         "door road tree green blue red cold warm old new good long great little own other right big high").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def stream(port, prompt, max_tokens, results, i, barrier=None):
    # Ollama's default repeat penalty (1.1 over the last 64 tokens) applies on our /v1 routes; llama-server is told the same.
    body = json.dumps({"model": "bench", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "repeat_penalty": 1.1, "repeat_last_n": 64,
                       "stream": True, "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.connect()
    if barrier: barrier.wait()
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"port {port}: HTTP {resp.status} {resp.read()[:300]}")
    ttft, text, tokens, usage = None, [], 0, None
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data:"): continue
        data = line[5:].strip()
        if data == "[DONE]": break
        ev = json.loads(data)
        if ev.get("usage"): usage = ev["usage"]
        for ch in ev.get("choices") or []:
            if ch.get("text"):
                if ttft is None: ttft = time.perf_counter() - t0
                text.append(ch["text"])
                tokens += 1
    end = time.perf_counter() - t0
    conn.close()
    n = usage["completion_tokens"] if usage else tokens
    results[i] = {"ttft": ttft, "end": end, "tokens": n, "text": "".join(text),
                  "prompt_tokens": usage and usage.get("prompt_tokens")}


def concurrent(port, prompts, max_tokens):
    results = [None] * len(prompts)
    barrier = threading.Barrier(len(prompts))
    threads = [threading.Thread(target=stream, args=(port, p, max_tokens, results, i, barrier)) for i, p in enumerate(prompts)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    wall = time.perf_counter() - t0
    if any(r is None for r in results): raise RuntimeError("a request failed")
    return results, wall


def wait_up(port, path, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None: raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200: return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server on {port} did not come up")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--llama-server", default="/work/llama-src/build/bin/llama-server")
    ap.add_argument("--ours", default="src/Inference.Server/bin/Release/net10.0/Inference.Server.dll")
    ap.add_argument("--baseline", help="another build of our server (e.g. before a change), run as a third server")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=2048, help="context per sequence")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--arrivals", type=int, default=8)
    ap.add_argument("--arrival-prompt", type=int, default=32, help="words per arrival prompt")
    ap.add_argument("--arrival-tokens", type=int, default=128)
    ap.add_argument("--prefix", type=int, default=1000, help="words in the cached prefix (0: skip)")
    ap.add_argument("--follow-ups", type=int, default=5, help="cached-prefix requests per round (median)")
    ap.add_argument("--workloads", default="arrivals,prefix,fork")
    ap.add_argument("--ours-args", default="", help="extra --Inference:X=Y settings for our server")
    ap.add_argument("--log-dir", default=tempfile.mkdtemp(prefix="sxs-"))
    a = ap.parse_args()
    workloads = a.workloads.split(",")
    os.makedirs(a.log_dir, exist_ok=True)

    store = tempfile.mkdtemp(prefix="sxs-store-")
    ours_port, theirs_port, base_port = 11611, 11612, 11613
    def ours_for(dll, port, store): return ["dotnet", dll, "--urls", f"http://127.0.0.1:{port}", f"--Inference:ModelsDirectory={store}",
                f"--Inference:Threads={a.threads}", f"--Inference:DefaultContextLength={a.ctx}", "--Inference:KeepAlive=-1",
                f"--Inference:NumParallel={a.parallel}", "--Logging:LogLevel:Default=Warning", "--model", f"bench={a.model}"] + a.ours_args.split()
    ours_cmd = ours_for(a.ours, ours_port, store)
    theirs_cmd = [a.llama_server, "-m", a.model, "--host", "127.0.0.1", "--port", str(theirs_port), "-t", str(a.threads),
                  "-tb", str(a.threads), "-c", str(a.ctx * a.parallel), "-np", str(a.parallel), "--no-webui",
                  "-a", "bench"]
    procs = []
    try:
        servers = [("ours", ours_cmd, ours_port, "/api/version"), ("theirs", theirs_cmd, theirs_port, "/health")]
        if a.baseline: servers.append(("before", ours_for(a.baseline, base_port, tempfile.mkdtemp(prefix="sxs-store-")), base_port, "/api/version"))
        for name, cmd, port, path in servers:
            log = open(os.path.join(a.log_dir, name + ".log"), "w")
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(p)
            wait_up(port, path, p)
        print("# ours:", " ".join(ours_cmd), file=sys.stderr)
        print("# theirs:", " ".join(theirs_cmd), file=sys.stderr)
        ports = {"ours": ours_port, "theirs": theirs_port}
        if a.baseline: ports["before"] = base_port
        # Warm-up: load and run each once.
        for port in ports.values():
            r = [None]; stream(port, "warm up " + words(random.Random(1), 40), 8, r, 0)

        rows = {}  # metric -> {"ours": [..], "theirs": [..]}
        def add(metric, who, v): rows.setdefault(metric, {k: [] for k in ports})[who].append(v)
        texts = {}
        for rnd in range(a.pairs):
            order = list(ports)
            for who in (order if rnd % 2 == 0 else order[::-1]):
                port = ports[who]
                if "arrivals" in workloads:
                    rng = random.Random(1000 + rnd)
                    prompts = [f"request {rnd}-{i}: " + words(rng, a.arrival_prompt) for i in range(a.arrivals)]
                    res, wall = concurrent(port, prompts, a.arrival_tokens)
                    tt = sorted(r["ttft"] for r in res)
                    add(f"{a.arrivals} arrivals TTFT max ms", who, tt[-1] * 1000)
                    add(f"{a.arrivals} arrivals TTFT p50 ms", who, statistics.median(tt) * 1000)
                    add(f"{a.arrivals} arrivals aggregate tok/s", who, sum(r["tokens"] for r in res) / wall)
                    if who != "before": texts.setdefault(("arrivals", rnd), {})[who] = [(r["tokens"], r["text"]) for r in res]
                if a.prefix and ("prefix" in workloads or "fork" in workloads):
                    rng = random.Random(2000 + rnd)
                    prefix = f"document {rnd}: " + words(rng, a.prefix)
                    r = [None]
                    stream(port, prefix + " question: " + words(rng, 10), 4, r, 0)  # fills the cache
                    if "prefix" in workloads:
                        ttfts = []
                        for _ in range(a.follow_ups):
                            stream(port, prefix + " question: " + words(rng, 10), 4, r, 0)
                            ttfts.append(r[0]["ttft"] * 1000)
                        add("cached-prefix TTFT ms", who, statistics.median(ttfts))
                    if "fork" in workloads:
                        res, _ = concurrent(port, [prefix + " other: " + words(rng, 10) for _ in range(2)], 4)
                        add("2 at once on a cached prefix, TTFT max ms", who, max(x["ttft"] for x in res) * 1000)
        mismatches = 0
        for key, v in texts.items():
            if v["ours"] != v["theirs"]:
                mismatches += 1
                if mismatches == 1:
                    for (on, ot), (tn, tt) in zip(v["ours"], v["theirs"]):
                        if (on, ot) != (tn, tt):
                            print(f"first mismatch {key}: ours {on} tokens {ot[:120]!r}\n  theirs {tn} tokens {tt[:120]!r}"); break
        def cell(v, who):
            per = [x / y for x, y in zip(v[who], v["theirs"])]
            return f"{statistics.median(v[who]):.1f} | {statistics.median(v[who]) / statistics.median(v['theirs']):.3f} | {min(per):.3f}-{max(per):.3f}"
        if a.baseline:
            print("| metric | before | ratio | spread | after | ratio | spread | llama-server |\n|---|---|---|---|---|---|---|---|")
            for metric, v in rows.items():
                print(f"| {metric} | {cell(v, 'before')} | {cell(v, 'ours')} | {statistics.median(v['theirs']):.1f} |")
        else:
            print("| metric | ours | ratio | spread | llama-server |\n|---|---|---|---|---|")
            for metric, v in rows.items():
                print(f"| {metric} | {cell(v, 'ours')} | {statistics.median(v['theirs']):.1f} |")
        print(f"rounds {a.pairs}; arrival outputs identical in {len(texts) - mismatches}/{len(texts)} rounds; logs {a.log_dir}")
    finally:
        for p in procs:
            try: os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError: pass
        for p in procs: p.wait()


if __name__ == "__main__":
    main()
