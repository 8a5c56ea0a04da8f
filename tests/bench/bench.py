#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: teelab's speed beside the anchors, in one run, as a table.

Pairs (median of BENCH_PAIRS >= 5 rounds; the members of a round run one
after the other, in an order that rotates, so a slow minute of the host
falls on every side):
  warm      teelab run xtest-smoke, started from the lab's snapshot
  cold      teelab run xtest-smoke --cold (boot: direct)
  build.git the same images the way OP-TEE's build.git `make check` runs
            them: U-Boot with its autoboot delay, QEMU's own device tree,
            an expect script on the serial console (buildgit-check.exp)
  lava      lava-run of `teelab export lava xtest-smoke` (root, bookworm,
            lava-dispatcher installed: make test-deps), else left out
Then: cold boot to the ready marker (Debian 6.12, the source 6.12), the
warm start to the first step, the time to the verdict of the
system-invocation DEADLOCK cells warm and cold (and the structural detector's
verdict time and the thread-state fast call's, 5 runs a cell), a kexec hop, the nightly
matrix with -j 1 and -j 2 (BENCH_NIGHTLY=0 leaves it out), and teelab's
CPU against QEMU's for one run.

Every row has its target (from issue 18) and the same row of the previous
bench run on this machine (<cache>/bench/last.json). Exit 1 if a target is
missed, 2 if something did not run.
"""
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEELAB = os.environ.get("TEELAB", os.path.join(SRC, "teelab"))
PAIRS = max(5, int(os.environ.get("BENCH_PAIRS", "5")))
NIGHTLY = os.environ.get("BENCH_NIGHTLY", "1") != "0"
CACHE = os.environ.get("TEELAB_CACHE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "teelab")
HISTORY = os.path.join(CACHE, "bench")
XTEST = ["-t", "regression", "1001", "1004", "6001"]   # xtest-smoke's cases

# today's anchors (issue 18, before it): seconds
ANCHOR = {"cold_smoke": 6.0, "boot_ready": 4.1, "nightly_j2": 202.0}

work = tempfile.mkdtemp(prefix="teelab-bench.")
runs = os.path.join(work, "runs")
failed = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def teelab(*args, ok=(0,), timeout=3600):
    """Run teelab; (exit code, wall seconds, newest run dir or None)."""
    t0 = time.monotonic()
    p = subprocess.run([TEELAB, "-q", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    wall = time.monotonic() - t0
    if p.returncode not in ok:
        failed.append(f"teelab {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
    m = re.findall(r"- (\S+/\d{8}-\d{6}-[^\s]+)\s*$", p.stderr, re.M)
    return p.returncode, wall, (m[-1] if m else None)


def matrix(name, j, out, runs):
    """Wall seconds of `teelab run --matrix NAME -j J` with its images cached: a first
    run that had to build (its report's build_seconds over 30 s: a fresh Debian source,
    a changed fragment) is run again, and the second one counts."""
    for attempt in (1, 2):
        o = out if attempt == 1 else out + "-again"
        _, w, _ = teelab("run", "--matrix", name, "-j", j, "--out", o, "--runs-dir", runs,
                         ok=(0, 1), timeout=7200)
        try:
            with open(os.path.join(o, "result.json")) as f:
                built = json.load(f).get("build_seconds") or 0
        except (OSError, ValueError):
            built = 0
        if built <= 30:
            return w
        log(f"bench: matrix {name} -j {j} built images for {built:.0f} s: again, cached")
    return w


def result(run_dir):
    with open(os.path.join(run_dir, "result.json")) as f:
        return json.load(f)


def env(run_dir, key):
    return result(run_dir).get("environment", {}).get(key)


def ready_seconds(run_dir):
    """The ready marker's time on the first boot's console (seconds from QEMU's start)."""
    with open(os.path.join(run_dir, "nw-console.boot-1.log"), errors="replace") as f:
        for line in f:
            if "@@TL:READY@@" in line:
                return float(line[1:line.index("]")])
    return None


def step_seconds(run_dir, name):
    for t in result(run_dir).get("tests", []):
        if t.get("group") == "steps" and t.get("name") == name:
            return t.get("duration")
    return None


def images_of(run_dir):
    a = shlex.split(open(os.path.join(run_dir, "qemu.cmdline")).read())
    return [a[a.index(o) + 1] for o in ("-bios", "-kernel", "-initrd")]


def buildgit(images):
    d = tempfile.mkdtemp(dir=work, prefix="buildgit.")
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(SRC, "tests/bench/buildgit-check.exp"), d,
                        "qemu-system-aarch64", *images, *XTEST],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    wall = time.monotonic() - t0
    if p.returncode or "Status: PASS" not in p.stdout:
        failed.append(f"build.git-style run: {p.stdout.strip()[-300:]}")
    return wall


def lava_ready():
    if os.geteuid() != 0 or not shutil.which("lava-run"):
        return None
    out = os.path.join(work, "lava-export")
    rc, _, _ = teelab("export", "lava", "xtest-smoke", "--out", out)
    return out if rc == 0 else None


def lava(export, i):
    outdir = os.path.join(export, f"output-{i}")
    os.makedirs(outdir)
    t0 = time.monotonic()
    with open(os.path.join(outdir, "job.log"), "w") as err:
        p = subprocess.run(["lava-run", "--device", os.path.join(export, "device.yaml"),
                            "--dispatcher", os.path.join(export, "dispatcher.yaml"),
                            "--output-dir", outdir, "--job-id", str(70000 + os.getpid() % 9000 + i),
                            os.path.join(export, "job.yaml")],
                           stdout=subprocess.DEVNULL, stderr=err, timeout=900)
    wall = time.monotonic() - t0
    if p.returncode:
        failed.append(f"lava-run: exit {p.returncode} (see {outdir}/job.log)")
    return wall


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def main():
    rows = []          # (key, label, value, unit, target text, met or None)

    def row(key, label, value, unit="s", target=None, met=None):
        rows.append((key, label, value, unit, target, met))

    log(f"bench: work dir {work}; {PAIRS} rounds")
    teelab("build")
    teelab("build", "--boot", "u-boot")
    # the images of the build.git-style side, and a snapshot for the warm side
    _, _, ub = teelab("run", "--runs-dir", runs, "--boot", "u-boot", "--cold", "xtest-smoke")
    images = images_of(ub)
    teelab("run", "--runs-dir", runs, "xtest-smoke")
    export = lava_ready()
    if not export:
        log("bench: no lava-run here (root, bookworm, make test-deps): the LAVA column is left out")

    sides = ["warm", "cold", "buildgit"] + (["lava"] if export else [])
    wall = {s: [] for s in sides}
    warm_first, cold_ready, cpu = [], [], []
    for i in range(PAIRS):
        order = sides[i % len(sides):] + sides[:i % len(sides)]
        for s in order:
            if s == "warm":
                _, w, d = teelab("run", "--runs-dir", runs, "--warm", "xtest-smoke")
                if d and env(d, "boot_start") != "snapshot":
                    failed.append(f"warm run {d} did not start from the snapshot")
                warm_first.append(step_seconds(d, "boot") if d else None)
            elif s == "cold":
                _, w, d = teelab("run", "--runs-dir", runs, "--cold", "xtest-smoke")
                if d:
                    cold_ready.append(ready_seconds(d))
                    q, t = env(d, "cpu_qemu_seconds"), env(d, "cpu_teelab_seconds")
                    if q and t:
                        cpu.append(100.0 * float(t) / float(q))
            elif s == "buildgit":
                w = buildgit(images)
            else:
                w = lava(export, i)
            wall[s].append(w)
        log(f"bench: round {i + 1}: " + ", ".join(f"{s} {wall[s][-1]:.2f}" for s in sides))

    def ratio(a, b):
        return med([x / y for x, y in zip(wall[a], wall[b])])

    for s, label in (("warm", "teelab run xtest-smoke, warm"),
                     ("cold", "teelab run xtest-smoke, cold"),
                     ("buildgit", "build.git-style run, same images"),
                     ("lava", "lava-run of the exported job")):
        if s in wall:
            row(f"wall_{s}", label, med(wall[s]),
                target="anchor 6.0 s (cached, U-Boot)" if s == "cold" else None)
    r = ratio("warm", "buildgit")
    row("ratio_warm_buildgit", "warm / build.git-style (median of pairs)", r, "x",
        "<= 0.35", r is not None and r <= 0.35)
    row("ratio_warm_cold", "warm / cold", ratio("warm", "cold"), "x")
    row("ratio_cold_buildgit", "cold / build.git-style", ratio("cold", "buildgit"), "x")
    if "lava" in wall:
        row("ratio_warm_lava", "warm / lava-run", ratio("warm", "lava"), "x")
        row("ratio_cold_lava", "cold / lava-run", ratio("cold", "lava"), "x")
    v = med(warm_first)
    row("warm_first_step", "warm start to the first step (boot step)", v,
        target="<= 0.5 s", met=v is not None and v <= 0.5)
    v = med(cold_ready)
    row("cold_ready_deb612", "cold boot to ready, Debian 6.12", v,
        target="<= 2.5 s (anchor 4.1)", met=v is not None and v <= 2.5)
    src = []
    # as many runs as pairs: a median of 3 moved by 0.4 s with one slow run on this
    # shared machine (1.05-1.73 s for five runs in a row, 2026-12-05); after one
    # run that is not counted, as the pairs above are measured with their images
    # in the page cache (the rounds before used Debian's kernel)
    teelab("run", "--runs-dir", runs, "--cold", "--kernel", "src-6.12", "xtest-smoke")
    for i in range(PAIRS):
        _, _, d = teelab("run", "--runs-dir", runs, "--cold", "--kernel", "src-6.12", "xtest-smoke")
        src.append(ready_seconds(d) if d else None)
    v = med(src)
    row("cold_ready_src612", "cold boot to ready, source 6.12", v,
        target="<= 1.5 s", met=v is not None and v <= 1.5)
    v = med(cpu)
    row("cpu_teelab_pct", "teelab's CPU / QEMU's, one cold run", v, "%",
        "<= 2 %", v is not None and v <= 2.0)

    # the DEADLOCK cells: time to the verdict, warm (after one run made the snapshot) and
    # cold; the structural detector's verdict after the last progress (5 runs a cell), and
    # the lab fast call's time with every OP-TEE thread suspended (module's own clock)
    for cell in ("6.12-t1-c2", "6.1-t2-c2"):
        teelab("run", "--runs-dir", runs, "--cell", cell, "system-invocation")
        proof, fast, walls = [], [], {}
        for how in ("--warm", "--cold", "--warm", "--warm", "--warm"):
            _, w, d = teelab("run", "--runs-dir", runs, how, "--cell", cell, "system-invocation")
            if d and result(d).get("observed") != "DEADLOCK":
                failed.append(f"system-invocation {cell} {how}: {result(d).get('observed')}")
            if d and env(d, "deadlock_detector") == "state":
                proof.append(float(env(d, "deadlock_seconds_after_last_progress")))
            elif d:
                failed.append(f"system-invocation {cell} {how}: not proven from state ({d})")
            ot = os.path.join(d, "evidence", "optee-threads.txt") if d else ""
            if os.path.exists(ot):
                for line in open(ot):
                    if line.startswith("fast-calls "):
                        fast.append(int(line.split()[3]) / 1e6)
            walls.setdefault(how[2:], w)   # the first warm and the cold run
        for how in ("warm", "cold"):
            row(f"deadlock_{cell}_{how}", f"system-invocation {cell} to DEADLOCK, {how}", walls.get(how))
        v = max(proof) if proof else None
        row(f"deadlock_proof_{cell}", f"{cell}: DEADLOCK proven after last progress (max of {len(proof)})",
            v, target="<= 3 s", met=v is not None and v <= 3.0)
        v = max(fast) if fast else None
        row(f"fast_call_{cell}", f"{cell}: thread-state fast calls, all threads suspended (max)",
            v, "ms", "<= 100 ms", v is not None and v <= 100)

    # a kexec hop: tl-kexec's "kexec -e" to "optee: initialized driver" on the new kernel
    _, _, d = teelab("run", "--runs-dir", runs, "--param", "hops=3", "kexec-shm")
    hops = [b.get("optee_seconds") for b in result(d)["boots"][1:]] if d else []
    row("kexec_hop", "kexec hop to optee ready (median of 3)", med(hops),
        target="< 10 s", met=bool(hops) and med(hops) < 10)

    # the anchor's matrix: nightly-core is the nightly of 2026-11-21, the 15 cells whose -j 2
    # run took the 202 s the target is 60 % of; today's nightly adds the FF-A xtest
    # regression and the KASAN cells (no anchor for those)
    # its report is kept too (<cache>/bench/nightly-core-*): each cell's wall time and how it
    # booted, to see what the matrix waits for
    out = os.path.join(HISTORY, time.strftime("nightly-core-%Y%m%dT%H%M%SZ-j2", time.gmtime()))
    w = matrix("nightly-core", "2", out, os.path.join(work, "nightly-core"))
    row("nightly_core_j2", "nightly-core (the anchor's 15 cells), -j 2", w,
        target="<= 60 % of 202 s = 121 s", met=w <= 0.6 * ANCHOR["nightly_j2"])
    if NIGHTLY:
        for j in ("1", "2"):
            # the reports are kept (<cache>/bench/nightly-*): `teelab matrix --history` reads them
            out = os.path.join(HISTORY, time.strftime("nightly-%Y%m%dT%H%M%SZ-j", time.gmtime()) + j)
            w = matrix("nightly", j, out, os.path.join(work, "nightly-j" + j))
            row(f"nightly_j{j}", f"nightly matrix (27 cells), -j {j}, images cached", w)

    # the table, with the previous bench run's values
    prev = {}
    last = os.path.join(HISTORY, "last.json")
    if os.path.exists(last):
        with open(last) as f:
            prev = json.load(f)
    pv = prev.get("values", {})
    print(f"make bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{PAIRS} rounds; previous: {prev.get('when', 'none')}")
    width = max([len("measure")] + [len(r[1]) for r in rows])
    print(f"{'measure':<{width}} {'now':>9} {'previous':>9}  {'target':<28} status")
    missed = 0
    for key, label, value, unit, target, met in rows:
        fmt = (lambda x: "-" if x is None else f"{x:.2f}{'' if unit == 's' else unit}")
        status = "" if met is None else ("met" if met else "MISSED")
        missed += met is False
        print(f"{label:<{width}} {fmt(value):>9} {fmt(pv.get(key)):>9}  {target or '':<28} {status}")
    for f in failed:
        print(f"did not run as it should: {f}")
    os.makedirs(HISTORY, exist_ok=True)
    rec = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "pairs": PAIRS,
           "values": {k: v for k, _, v, *_ in rows}, "walls": wall}
    with open(os.path.join(HISTORY, rec["when"] + ".json"), "w") as f:
        json.dump(rec, f, indent=2)
    with open(last, "w") as f:
        json.dump(rec, f, indent=2)
    shutil.rmtree(work, ignore_errors=True)
    return 2 if failed else 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
