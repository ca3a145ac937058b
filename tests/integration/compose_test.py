# SPDX-License-Identifier: Apache-2.0
"""Checks demo/compose at the level `docker compose config` would (no
container engine on CI), and that its workload settings work against the
local Workload API double: same socket variable, same entrypoint."""
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

SRC = os.environ.get("KEST_SRC", os.path.join(os.path.dirname(__file__),
                                              "..", ".."))
BUILD = os.environ.get("KEST_BUILD", os.path.join(SRC, "build"))
COMPOSE = os.path.join(SRC, "demo", "compose")
results = []


def check(name, cond):
    """Record one TAP result."""
    results.append(bool(cond))
    print(("ok" if cond else "not ok"), len(results), "-", name)


def conf_value(path, key):
    """A `key = "value"` setting from a SPIRE HCL config."""
    with open(path) as f:
        m = re.search(r'^\s*%s\s*=\s*"([^"]*)"' % key, f.read(), re.M)
    return m.group(1) if m else None


def main():
    with open(os.path.join(COMPOSE, "docker-compose.yml")) as f:
        doc = yaml.safe_load(f)
    svc = doc.get("services", {})
    check("three services", set(svc) == {"spire-server", "spire-agent",
                                          "workload"})
    for name in ("spire-server", "spire-agent"):
        check(name + " uses a SPIRE 1.11 image",
              svc[name]["image"].endswith(":1.11.0"))
    wl = svc["workload"]
    sock_env = wl["environment"]["SPIFFE_ENDPOINT_SOCKET"]
    agent_sock = conf_value(os.path.join(COMPOSE, "spire", "agent.conf"),
                            "socket_path")
    check("workload socket is the agent's socket_path",
          sock_env == "unix://" + str(agent_sock))
    mounts = wl["volumes"]
    check("socket volume mounted read-only in the workload",
          any(m.startswith("spire-agent-socket:") and m.endswith(":ro")
              for m in mounts))
    check("agent mounts the same volume writable",
          any(m.startswith("spire-agent-socket:") and not m.endswith(":ro")
              for m in svc["spire-agent"]["volumes"]))
    check("entrypoint is kest run --", wl["entrypoint"] == ["kest", "run",
                                                          "--"])
    check("trust domains agree",
          conf_value(os.path.join(COMPOSE, "spire", "server.conf"),
                     "trust_domain") ==
          conf_value(os.path.join(COMPOSE, "spire", "agent.conf"),
                     "trust_domain"))
    for v in doc.get("volumes", {}):
        check("volume %s declared and used" % v,
              any(v + ":" in m for s in svc.values()
                  for m in s.get("volumes", [])))

    # The workload's settings against the local double: the same
    # variables, the entrypoint, and the job the image runs.
    with tempfile.TemporaryDirectory() as t:
        certs = os.path.join(t, "certs")
        subprocess.run(["sh", os.path.join(SRC, "tests", "doubles",
                                           "mkcerts.sh"), certs],
                       check=True, capture_output=True)
        sock = os.path.join(t, "api.sock")
        ready = os.path.join(t, "ready")
        srv = subprocess.Popen(["/usr/bin/python3",
                                os.path.join(SRC, "tests", "doubles",
                                             "workload_api.py"),
                                "--socket", sock, "--certs", certs,
                                "--mode", "ok", "--ready-file", ready],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            for _ in range(150):
                if os.path.exists(ready) and os.path.getsize(ready):
                    break
                time.sleep(0.1)
            env = dict(os.environ)
            env.update({k: str(v) for k, v in wl["environment"].items()})
            env["SPIFFE_ENDPOINT_SOCKET"] = "unix://" + sock
            env["KEST_LOG"] = os.path.join(t, "kest.log")
            os.makedirs(os.path.join(t, "data"))
            with open(os.path.join(t, "data", "a"), "w") as f:
                f.write("hi\n")
            kest = os.path.join(BUILD, "bin", "kest")
            cmd = [kest] + wl["entrypoint"][1:] + [
                os.path.join(SRC, "demo", "legacy-job.sh"),
                os.path.join(t, "data"), os.path.join(t, "out")]
            r = subprocess.run(cmd, env=env, capture_output=True)
            check("entrypoint runs the job against the double",
                  r.returncode == 0)
            subprocess.run([kest, "bundle", "--socket", "unix://" + sock,
                            "--out", os.path.join(t, "b.pem")], check=True)
            v = subprocess.run([kest, "verify", "--bundle",
                                os.path.join(t, "b.pem"), env["KEST_LOG"]],
                               capture_output=True, text=True)
            check("its log verifies with the fetched bundle",
                  v.returncode == 0 and v.stdout.startswith("OK"))
        finally:
            srv.terminate()
            srv.wait(timeout=10)
    failed = results.count(False)
    print("1..%d" % len(results))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
