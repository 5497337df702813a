#!/usr/bin/env python3
"""ctest examples_schedulers: the scheduler examples parse and run.

    examples/ci/*.yml                  GitHub Actions workflows
    examples/kubernetes/*.yaml         Kubernetes manifests
    examples/kubernetes/Dockerfile     the image they run

Each YAML file parses (python3-yaml, installed by scripts/bootstrap.sh) and
holds no tab. The Kubernetes CronJobs have concurrencyPolicy: Forbid, take
their secrets from a Kubernetes Secret and their configs from a ConfigMap or
a git checkout; one runs `rotor drift` (sharded), one `rotor apply
--auto-approve`. The ConfigMap's configs pass `rotor validate` (with a PFX
made for each and a value for each variable they read). The workflows
install rotor's Debian package (no build from source), and the fleet
workflow runs `rotor drift --shard K/N` over a matrix of shards.

Every rotor command line in them is run with the real binary: matrix values
and Job indexes substituted, redirections dropped, and -c pointed at a local
fleet (cloud.kind = "local") whose files have the names the examples use, so
each command parses and runs to a plan (exit 0, or 2 for changes/drift).

usage: check-examples.py ROTOR_BINARY SOURCE_DIR
"""
import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib

import yaml

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}", file=sys.stderr)


def load_yaml(path):
    text = open(path, encoding="utf-8").read()
    if "\t" in text:
        fail(f"{path}: has a tab (YAML takes none)")
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        fail(f"{path}: not valid YAML: {e}")
        return []


def rotor_lines(script):
    """The rotor command lines of a shell script, continuations joined."""
    lines, current = [], ""
    for raw in script.splitlines():
        current += raw.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        stripped = current.strip()
        current = ""
        if stripped.startswith("exec "):
            stripped = stripped[len("exec "):]
        if stripped.startswith("rotor ") or stripped == "rotor":
            lines.append(stripped)
    return lines


def argv_of(line, substitutions):
    """A rotor line as argv: substitutions made, redirections dropped."""
    for old, new in substitutions.items():
        line = line.replace(old, new)
    unknown = re.findall(r"\$\{\{[^}]*\}\}|\$\(\(|\$[A-Za-z_]+", line)
    if unknown:
        fail(f"cannot substitute {unknown} in: {line}")
        return None
    argv = []
    for token in shlex.split(line):
        if token in (">", ">>", "|", "&&", ";") or re.match(r"^\d?>", token):
            break
        argv.append(token)
    return argv[1:]  # without "rotor"


LOCAL_TEMPLATE = """{
  "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "domainNameLabel": { "type": "string" },
    "servicePrincipalClientId": { "type": "string" },
    "servicePrincipalClientSecret": { "type": "securestring" }
  },
  "resources": []
}
"""


def local_config(vault):
    return f"""[cloud]
kind = "local"
state_dir = ".rotor-{vault}"

[vault]
name = "{vault}"
resource_group = "rg-{vault}"

[[user]]
name = "admin"
password = {{ env = "FIXTURE_ADMIN_PW" }}

[deployment]
resource_group = "rg-{vault}"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = {{ env = "FIXTURE_SPN_SECRET" }}
template = "../template.json"

[deployment.parameters]
domainNameLabel = "{vault}"
"""


def run_rotor(rotor, argv, where, config_names):
    """Runs `rotor ARGV` with -c pointing at a fresh local fleet."""
    with tempfile.TemporaryDirectory(prefix="rotor-example-") as work:
        with open(os.path.join(work, "template.json"), "w") as f:
            f.write(LOCAL_TEMPLATE)
        os.makedirs(os.path.join(work, "fleet"))
        for i, name in enumerate(config_names):
            with open(os.path.join(work, "fleet", name), "w") as f:
                f.write(local_config(f"fixture{i}kv"))
        args = list(argv)
        for i, a in enumerate(args):
            if a in ("-c", "--config") and i + 1 < len(args):
                args[i + 1] = ("fleet/" + config_names[0]) if args[i + 1].endswith(".toml") \
                    else "fleet"
        env = dict(os.environ, FIXTURE_ADMIN_PW="Fixture-Admin-Pw-1",
                   FIXTURE_SPN_SECRET="Fixture-Spn-Secret-2", NO_COLOR="1")
        r = subprocess.run([rotor] + args, cwd=work, env=env, capture_output=True, text=True,
                           timeout=120)
        if r.returncode not in (0, 2) or "Error:" in r.stderr:
            fail(f"{where}: rotor {' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        return r


def make_pfx(path, password):
    key, crt = path + ".key", path + ".crt"
    host = "myreg.local.cloudapp.azurestack.external"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-days", "365",
                    "-nodes", "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
                    "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                    "-addext", "extendedKeyUsage=serverAuth", "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", path,
                    "-passout", f"pass:{password}"], check=True, capture_output=True)


def env_vars(node, found):
    if isinstance(node, dict):
        if set(node) == {"env"}:
            found.add(node["env"])
        for v in node.values():
            env_vars(v, found)
    elif isinstance(node, list):
        for v in node:
            env_vars(v, found)
    return found


def validate_configmap_configs(rotor, path, configs):
    """`rotor validate` on a ConfigMap's configs, laid out as mounted."""
    with tempfile.TemporaryDirectory(prefix="rotor-configmap-") as work:
        fleet = os.path.join(work, "fleet")
        os.makedirs(fleet)
        env = dict(os.environ)
        for name, text in configs.items():
            with open(os.path.join(fleet, name), "w") as f:
                f.write(text)
            parsed = tomllib.loads(text)
            for var in env_vars(parsed, set()):
                env[var] = f"Example-Value-{var}"
            cert = parsed.get("certificate")
            if cert:
                pfx = os.path.normpath(os.path.join(fleet, cert["pfx"]))
                os.makedirs(os.path.dirname(pfx), exist_ok=True)
                make_pfx(pfx, f"Example-Value-{cert['password']['env']}")
        r = subprocess.run([rotor, "validate", "-c", fleet], env=env, capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            fail(f"{path}: the ConfigMap's configs fail rotor validate:\n{r.stdout}{r.stderr}")


def check_kubernetes(rotor, source, version):
    folder = os.path.join(source, "examples", "kubernetes")
    dockerfile = open(os.path.join(folder, "Dockerfile")).read()
    deb = f"rotor_{version}_amd64.deb"
    if f"COPY {deb} " not in dockerfile or f" /tmp/{deb}" not in dockerfile:
        fail(f"Dockerfile: does not install {deb}, the package this version builds")
    if 'ENTRYPOINT ["rotor"]' not in dockerfile:
        fail('Dockerfile: no ENTRYPOINT ["rotor"]')
    commands = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(folder, name)
        docs = load_yaml(path)
        maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
        for name_, data in maps.items():
            validate_configmap_configs(rotor, f"{path} ConfigMap {name_}",
                                       {k: v for k, v in data.items() if k.endswith(".toml")})
        for d in docs:
            if d["kind"] != "CronJob":
                continue
            where = f"{path} CronJob {d['metadata']['name']}"
            spec = d["spec"]
            if spec.get("concurrencyPolicy") != "Forbid":
                fail(f"{where}: concurrencyPolicy is not Forbid")
            job = spec["jobTemplate"]["spec"]
            pod = job["template"]["spec"]
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            clones = any("clone" in (c.get("args") or []) for c in pod.get("initContainers", []))
            for c in pod["containers"]:
                if "rotor" not in c["image"]:
                    continue
                if not any("secretRef" in e for e in c.get("envFrom", [])):
                    fail(f"{where}: the rotor container takes no Secret (envFrom secretRef)")
                # The kind of each mounted volume: configMap, secret, emptyDir...
                mounted = [next(iter(volumes[m["name"]].keys() - {"name"}))
                           for m in c.get("volumeMounts", [])]
                if "configMap" not in mounted and not clones:
                    fail(f"{where}: the configs come from neither a ConfigMap nor a git checkout")
                if c.get("command"):
                    if c["command"][:2] != ["/bin/sh", "-c"]:
                        fail(f"{where}: command is neither rotor's entrypoint nor /bin/sh -c")
                        continue
                    lines = rotor_lines(c["command"][2])
                else:
                    lines = [shlex.join(["rotor"] + c["args"])]
                indexes = range(job.get("completions", 1)) \
                    if job.get("completionMode") == "Indexed" else [None]
                for line in lines:
                    for index in indexes:
                        subs = {} if index is None else \
                            {"$((JOB_COMPLETION_INDEX + 1))": str(index + 1)}
                        argv = argv_of(line, subs)
                        if argv is not None:
                            commands.append((where, argv))
    kinds = [" ".join(a[:1] + [x for x in a if x in ("--auto-approve", "--shard")])
             for _, a in commands]
    if not any(k.startswith("drift") and "--shard" in k for k in kinds):
        fail("kubernetes: no CronJob runs rotor drift --shard")
    if not any(k.startswith("apply") and "--auto-approve" in k for k in kinds):
        fail("kubernetes: no CronJob runs rotor apply --auto-approve")
    return commands


def matrix_combinations(job):
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    keys = [k for k in matrix if k not in ("include", "exclude")]
    for values in itertools.product(*[matrix[k] for k in keys]):
        yield dict(zip(keys, values))


def check_workflows(source):
    folder = os.path.join(source, "examples", "ci")
    commands, sharded = [], False
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yml"):
            continue
        path = os.path.join(folder, name)
        for doc in load_yaml(path):
            # YAML 1.1 reads the key `on` as true.
            if "jobs" not in doc or (True not in doc and "on" not in doc):
                fail(f"{path}: not a workflow (no on: or jobs:)")
                continue
            for job_name, job in doc["jobs"].items():
                runs = [s.get("run", "") for s in job.get("steps", [])]
                script = "\n".join(runs)
                if "cmake" in script:
                    fail(f"{path} job {job_name}: builds rotor from source")
                if "rotor" in script and not re.search(r"apt-get install .*/tmp/rotor\.deb", script):
                    fail(f"{path} job {job_name}: does not install rotor's Debian package")
                for combo in matrix_combinations(job):
                    subs = {f"${{{{ matrix.{k} }}}}": str(v) for k, v in combo.items()}
                    for step in job.get("steps", []):
                        env = dict(step.get("env") or {})
                        step_subs = dict(subs)
                        for var, value in env.items():
                            m = re.fullmatch(r"\$\{\{ vars\.\w+ \|\| '([^']*)' \}\}", str(value))
                            if m:
                                step_subs[f'"${var}"'] = m.group(1)
                                step_subs[f"${var}"] = m.group(1)
                        for line in rotor_lines(step.get("run", "")):
                            argv = argv_of(line, step_subs)
                            if argv is None:
                                continue
                            commands.append((f"{path} job {job_name} {combo}", argv))
                            if argv[:1] == ["drift"] and "--shard" in argv and combo:
                                sharded = True
    if not sharded:
        fail("examples/ci: no workflow runs rotor drift --shard over a matrix")
    return commands


def main():
    rotor, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    version = subprocess.run([rotor, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    commands = check_kubernetes(rotor, source, version) + check_workflows(source)
    # The file names the examples' commands select (--target registry-a),
    # and more, so that --shard K/N has files to split.
    names = ["registry-a.toml", "registry-b.toml", "registry-c.toml", "registry-d.toml"]
    ran = 0
    for where, argv in commands:
        if argv == ["--version"]:
            r = subprocess.run([rotor, "--version"], capture_output=True, text=True)
            if r.stdout.strip() != f"rotor {version}":
                fail(f"{where}: rotor --version printed {r.stdout!r}")
        else:
            run_rotor(rotor, argv, where, names)
        ran += 1
    if failures:
        print(f"{len(failures)} problem(s) in the scheduler examples", file=sys.stderr)
        return 1
    print(f"scheduler examples: YAML parses; {ran} rotor command lines ran with {rotor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
