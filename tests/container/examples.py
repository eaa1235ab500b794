#!/usr/bin/env python3
"""container.examples: docs/examples/k8s-pod.yaml and compose.yaml parse
and hold together (no cluster or compose runs here): required fields,
the certo-responder and certo-renew containers on the image certo:VERSION,
every volumeMount naming a declared volume, /run/certo shared through an
emptyDir (Kubernetes) or a named volume (compose), /var/lib/certo shared,
ports in range and published as 80/443, renew --loop, the health check.

Usage: examples.py K8S_POD_YAML COMPOSE_YAML VERSION; exit 0 or 1 with
one FAIL line per problem.
"""
import sys

import yaml

PROBLEMS = []


def check(cond, msg):
    """Record msg as a problem unless cond holds."""
    if not cond:
        PROBLEMS.append(msg)
    return cond


def port_ok(port):
    """A TCP port number (int 1..65535)."""
    return isinstance(port, int) and 0 < port < 65536


def k8s_container(ctr, volumes, where):
    """Fields every container of the Pod needs; its mounts by path."""
    check(isinstance(ctr.get("name"), str) and ctr["name"], f"{where}: no name")
    check(isinstance(ctr.get("image"), str) and ctr["image"], f"{where}: no image")
    mounts = {}
    for m in ctr.get("volumeMounts", []) or []:
        check(m.get("name") in volumes,
              f"{where}: volumeMount '{m.get('name')}' names no declared volume")
        check(str(m.get("mountPath", "")).startswith("/"),
              f"{where}: volumeMount '{m.get('name')}' has no absolute mountPath")
        mounts[m.get("mountPath")] = m.get("name")
    for p in ctr.get("ports", []) or []:
        check(port_ok(p.get("containerPort")),
              f"{where}: containerPort {p.get('containerPort')!r} out of range")
    for e in ctr.get("env", []) or []:
        check(isinstance(e.get("name"), str) and isinstance(e.get("value"), str),
              f"{where}: env entries need a name and a string value ({e})")
    return mounts


def check_k8s(path, image):
    """The Pod (and the Service publishing 80/443) of k8s-pod.yaml."""
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        check(isinstance(d.get("apiVersion"), str) and isinstance(d.get("kind"), str)
              and isinstance(d.get("metadata", {}).get("name"), str),
              f"{path}: a document without apiVersion, kind or metadata.name")
    pods = [d for d in docs if d.get("kind") == "Pod"]
    if not check(len(pods) == 1, f"{path}: {len(pods)} Pods, expected 1"):
        return
    pod = pods[0]
    check(pod["apiVersion"] == "v1", f"{path}: Pod apiVersion {pod['apiVersion']}")
    spec = pod.get("spec", {})
    volumes = {}
    for v in spec.get("volumes", []):
        check(v.get("name") not in volumes, f"{path}: volume {v.get('name')} declared twice")
        volumes[v.get("name")] = v
    claims = {d["metadata"]["name"] for d in docs if d.get("kind") == "PersistentVolumeClaim"}
    for name, v in volumes.items():
        if "persistentVolumeClaim" in v:
            check(v["persistentVolumeClaim"].get("claimName") in claims,
                  f"{path}: volume {name} claims an undeclared PersistentVolumeClaim")
    ctrs = {}
    mounts = {}
    for i, c in enumerate(spec.get("containers", [])):
        mounts[c.get("name")] = k8s_container(c, volumes, f"{path}: container {i}")
        check(c.get("name") not in ctrs, f"{path}: container name {c.get('name')} twice")
        ctrs[c.get("name")] = c
    for name in ("certo-responder", "certo-renew"):
        if not check(name in ctrs, f"{path}: no container {name}"):
            return
        check(ctrs[name].get("image") == image,
              f"{path}: {name} runs {ctrs[name].get('image')}, not {image}")
    run = mounts["certo-responder"].get("/run/certo")
    check(run is not None and "emptyDir" in volumes.get(run, {}),
          f"{path}: certo-responder's /run/certo is not an emptyDir")
    check(mounts["certo-renew"].get("/run/certo") == run,
          f"{path}: certo-renew does not share certo-responder's /run/certo")
    check("/var/lib/certo" in mounts["certo-renew"],
          f"{path}: certo-renew has no /var/lib/certo")
    resp = ctrs["certo-responder"]
    env = {e["name"]: e["value"] for e in resp.get("env", [])}
    ports = {p["containerPort"] for p in resp.get("ports", [])}
    check(str(env.get("CERTO_RESPONDER_HTTP_PORT")) in map(str, ports) and
          str(env.get("CERTO_RESPONDER_TLS_PORT")) in map(str, ports),
          f"{path}: the responder's CERTO_RESPONDER_HTTP_PORT/TLS_PORT are not its ports {ports}")
    check("CERTO_RESPONDER_TLS_PROXY" in env, f"{path}: no --tls-proxy to the app")
    probe = (resp.get("livenessProbe") or {}).get("exec", {}).get("command", [])
    check(probe == ["/usr/share/certo/container/healthcheck"],
          f"{path}: the responder's livenessProbe is not the image's health check")
    cmd = " ".join(ctrs["certo-renew"].get("command", []) + ctrs["certo-renew"].get("args", []))
    check("renew --loop" in cmd, f"{path}: certo-renew does not run certo renew --loop")
    check(spec.get("securityContext", {}).get("runAsNonRoot") is True,
          f"{path}: the Pod does not require runAsNonRoot")
    svc = [d for d in docs if d.get("kind") == "Service"]
    if svc:
        named = {p.get("name"): p["containerPort"] for p in resp.get("ports", [])}
        published = {}
        for p in svc[0]["spec"]["ports"]:
            target = p.get("targetPort")
            published[p.get("port")] = named.get(target, target)
        check(published.get(80) == int(env["CERTO_RESPONDER_HTTP_PORT"]) and
              published.get(443) == int(env["CERTO_RESPONDER_TLS_PORT"]),
              f"{path}: the Service does not publish the responder as 80/443 ({published})")


def check_compose(path, image):
    """The services, volumes and ports of compose.yaml."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    services = doc.get("services", {})
    volumes = doc.get("volumes", {}) or {}
    for name, svc in services.items():
        check(isinstance(svc.get("image"), str), f"{path}: service {name} has no image")
        for v in svc.get("volumes", []):
            src = str(v).split(":")[0]
            check(src in volumes, f"{path}: service {name} mounts undeclared volume {src}")
        for dep in svc.get("depends_on", []):
            check(dep in services, f"{path}: service {name} depends on unknown {dep}")
    for name in ("certo-responder", "certo-renew"):
        if not check(name in services, f"{path}: no service {name}"):
            return
        check(services[name]["image"] == image,
              f"{path}: {name} runs {services[name]['image']}, not {image}")
    mounts = {n: {str(v).split(":")[1]: str(v).split(":")[0]
                  for v in services[n].get("volumes", [])}
              for n in ("certo-responder", "certo-renew")}
    check(mounts["certo-responder"].get("/run/certo") is not None and
          mounts["certo-responder"].get("/run/certo") == mounts["certo-renew"].get("/run/certo"),
          f"{path}: the two services do not share /run/certo")
    check("/var/lib/certo" in mounts["certo-renew"], f"{path}: certo-renew has no /var/lib/certo")
    env = services["certo-responder"].get("environment", {})
    published = {}
    for p in services["certo-responder"].get("ports", []):
        host, ctr = str(p).split(":")
        check(port_ok(int(host)) and port_ok(int(ctr)), f"{path}: port {p} out of range")
        published[int(host)] = ctr
    check(published.get(80) == str(env.get("CERTO_RESPONDER_HTTP_PORT")) and
          published.get(443) == str(env.get("CERTO_RESPONDER_TLS_PORT")),
          f"{path}: the responder is not published as 80/443 on its ports ({published})")
    check("CERTO_RESPONDER_TLS_PROXY" in env, f"{path}: no --tls-proxy to the app")
    cmd = " ".join(services["certo-renew"].get("command", []))
    check("renew --loop" in cmd, f"{path}: certo-renew does not run certo renew --loop")


def main():
    """Check both files; report every problem."""
    if len(sys.argv) != 4:
        print("usage: examples.py K8S_POD_YAML COMPOSE_YAML VERSION", file=sys.stderr)
        return 2
    image = "certo:" + sys.argv[3]
    for fn, path in ((check_k8s, sys.argv[1]), (check_compose, sys.argv[2])):
        try:
            fn(path, image)
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError,
                ValueError, IndexError) as e:
            PROBLEMS.append(f"{path}: {type(e).__name__}: {e}")
    for p in PROBLEMS:
        print("FAIL: container.examples: " + p, file=sys.stderr)
    if PROBLEMS:
        return 1
    print("PASS: container.examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
