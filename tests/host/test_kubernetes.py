"""deploy/kubernetes: the facts no schema validator checks, the lint's failures, and the pod on a real engine.

The manifests are rendered with the kubectl of the linters' venv, which `make
test-host` installs. There is no Kubernetes cluster here; `podman kube
play` runs the rendered pods instead (the last test).
"""

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.request

import pytest
import yaml
from docker_helpers import (
    REPO,
    UWSGI_INI,
    compose_image,
    create_token,
    docker,
    free_port,
    http,
    local_database,
    make,
    root_mount_options,
    unique_name,
    uwsgi_option,
    wait_for_http,
)

KUBECTL = REPO / ".cache" / "lint-venv" / "bin" / "kubectl"
KUSTOMIZATIONS = ["deploy/kubernetes/base", "deploy/kubernetes/overlays/example"]
# The Secret is created out of band, with the command docs/kubernetes.md gives.
SECRET_KEYS = set(re.findall(r"--from-literal=(\w+)=", (REPO / "docs" / "kubernetes.md").read_text()))


def render(kustomization):
    """The rendered manifests of a kustomization, by kind (each kind appears once)."""
    assert KUBECTL.exists(), "kubectl comes with the linters' venv, which `make test-host` installs"
    result = subprocess.run([KUBECTL, "kustomize", REPO / kustomization], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    by_kind = {document["kind"]: document for document in documents}
    assert len(by_kind) == len(documents), "a kind appears twice; these tests expect each once"
    return by_kind


def pod(manifests, kind):
    return manifests[kind]["spec"]["template"]["spec"]


def container(manifests, kind):
    (only,) = pod(manifests, kind)["containers"]
    return only


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def manifests(request):
    return render(request.param)


def secret_values():
    """What an operator puts in the Secret: a fresh key, and the test PostgreSQL's URL (host `db`)."""
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": local_database()[1]}


def secret_name(manifests):
    (name,) = [
        source["secretRef"]["name"] for source in container(manifests, "Deployment")["envFrom"] if "secretRef" in source
    ]
    return name


def test_no_secret_is_committed_and_both_pods_read_the_one_created_out_of_band(manifests):
    assert "Secret" not in manifests
    assert SECRET_KEYS == {"DJANGO_SECRET_KEY", "DATABASE_URL"}
    for kind in ("Deployment", "Job"):
        sources = container(manifests, kind)["envFrom"]
        assert {"secretRef": {"name": secret_name(manifests)}} in sources
        assert {"configMapRef": {"name": manifests["ConfigMap"]["metadata"]["name"]}} in sources


def test_every_setting_production_requires_is_supplied(manifests):
    settings = (REPO / "config" / "settings.py").read_text()
    required = set(re.findall(r'env_required\("(\w+)"', settings)) | {"DJANGO_ALLOWED_HOSTS"}
    supplied = set(manifests["ConfigMap"]["data"]) | SECRET_KEYS
    assert required <= supplied, f"not supplied: {required - supplied}"
    assert manifests["ConfigMap"]["data"]["DJANGO_ALLOWED_HOSTS"], "an empty list would answer every request 400"


def test_the_configuration_passes_djangos_deployment_checks(prod_image):
    """The ConfigMap's values with a Secret's, as the prod image's settings read them."""
    config = render(KUSTOMIZATIONS[-1])["ConfigMap"]["data"]
    secret = secret_values()
    env = [arg for name, value in {**config, **secret}.items() for arg in ("-e", f"{name}={value}")]
    check = ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    docker("run", "--rm", *env, prod_image, *check)


def test_selectors_select_the_deployments_pods_and_not_the_jobs(manifests):
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    job_labels = manifests["Job"]["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Deployment": manifests["Deployment"]["spec"]["selector"]["matchLabels"],
        "Service": manifests["Service"]["spec"]["selector"],
        "PodDisruptionBudget": manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    }
    spread = pod(manifests, "Deployment")["topologySpreadConstraints"]
    selectors |= {f"topologySpreadConstraints[{n}]": c["labelSelector"]["matchLabels"] for n, c in enumerate(spread)}
    for owner, selector in selectors.items():
        assert selector.items() <= labels.items(), f"{owner}'s selector misses the Deployment's pods"
        assert not selector.items() <= job_labels.items(), f"{owner}'s selector takes in the migration's pods"
    target = manifests["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", manifests["Deployment"]["metadata"]["name"])


def test_probes_ask_the_ports_uwsgi_serves_them_on(manifests):
    """Start-up and liveness the probes' own worker, readiness the API's port; only the API's is open to all."""
    app = container(manifests, "Deployment")
    port = int(uwsgi_option("http").rpartition(":")[2])
    probe_port = int(uwsgi_option("http-socket").rpartition(":")[2])
    ports = {entry["name"]: entry["containerPort"] for entry in app["ports"]}
    expected = {"startupProbe": probe_port, "livenessProbe": probe_port, "readinessProbe": port}
    for probe, served in expected.items():
        named = app[probe]["httpGet"]["port"]
        assert ports.get(named, named) == served, f"{probe} asks port {named}; uWSGI serves it on {served}"
    open_to_all = [p["port"] for rule in ingress(manifests) if "from" not in rule for p in rule["ports"]]
    assert open_to_all == [port]


def ingress(manifests):
    return manifests["NetworkPolicy"]["spec"]["ingress"]


def test_the_metrics_port_is_the_exporters_and_only_the_monitoring_namespace_reaches_it(manifests):
    port = int(re.search(r"^attach-daemon = python -m app\.server\.exporter (\d+) ", UWSGI_INI, re.MULTILINE)[1])
    ports = {entry["name"]: entry["containerPort"] for entry in container(manifests, "Deployment")["ports"]}
    annotations = manifests["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert ports["metrics"] == port
    assert (annotations["prometheus.io/scrape"], annotations["prometheus.io/port"]) == ("true", str(port))
    rules = [rule for rule in ingress(manifests) if port in {p["port"] for p in rule["ports"]}]
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    assert [rule.get("from") for rule in rules] == [[monitoring]]
    assert [entry["targetPort"] for entry in manifests["Service"]["spec"]["ports"]] == ["http"]


def test_pods_run_as_the_images_user(manifests, prod_image):
    user = docker("image", "inspect", "--format", "{{.Config.User}}", prod_image).stdout.strip()
    for kind in ("Deployment", "Job"):
        context = pod(manifests, kind)["securityContext"]
        assert f"{context['runAsUser']}:{context['runAsGroup']}" == user, kind


def test_grace_period_outlasts_the_prestop_pause_and_harakiri(manifests):
    pause = container(manifests, "Deployment")["lifecycle"]["preStop"]["sleep"]["seconds"]
    harakiri = int(uwsgi_option("harakiri"))
    grace = pod(manifests, "Deployment")["terminationGracePeriodSeconds"]
    assert grace > pause + harakiri, f"{grace} s of grace for a {pause} s pause and {harakiri} s of harakiri"


def test_the_job_migrates_with_the_deployments_image(manifests):
    job, app = container(manifests, "Job"), container(manifests, "Deployment")
    assert job["command"][:3] == ["python", "manage.py", "migrate"]
    assert job["image"] == app["image"]
    assert job["envFrom"] == app["envFrom"]
    assert "command" not in app, "the Deployment runs the image's own CMD (uWSGI), and never migrates"


def test_the_docs_connection_budget_is_the_configs(manifests):
    """docs/kubernetes.md's count of database connections, from the worker count and maxReplicas it is made of."""
    docs = " ".join((REPO / "docs" / "kubernetes.md").read_text().split())
    stated = re.search(r"uWSGI's (\d+) worker processes\. .*? at most (\d+) × (\d+) connections", docs)
    assert stated, "docs/kubernetes.md no longer states the connection budget this test checks"
    workers, replicas, per_pod = map(int, stated.groups())
    processes = int(uwsgi_option("processes"))
    assert (workers, per_pod) == (processes, processes), f"the docs say {workers} and {per_pod}; uWSGI runs {processes}"
    assert replicas == manifests["HorizontalPodAutoscaler"]["spec"]["maxReplicas"]


def test_replicas_survive_a_lost_pod_and_the_autoscaler_starts_from_them(manifests):
    deployment, autoscaler = manifests["Deployment"]["spec"], manifests["HorizontalPodAutoscaler"]["spec"]
    assert deployment["replicas"] >= 2
    assert autoscaler["minReplicas"] == deployment["replicas"] < autoscaler["maxReplicas"]
    assert deployment["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


# `make lint-kubernetes` on a copy of the repository with one property broken:
# a file, an edit, and what the failure must say.
BROKEN = {
    "replicas of the wrong type": (
        "deploy/kubernetes/base/deployment.yaml",
        lambda text: text.replace("replicas: 2", 'replicas: "2"'),
        "replicas: '2' is not of type 'integer'",
    ),
    "an unknown field": (
        "deploy/kubernetes/base/service.yaml",
        lambda text: text.replace("targetPort:", "targetport:"),
        "'targetport' was unexpected",
    ),
    "a kind without a schema (a warning)": (
        "deploy/kubernetes/base/service.yaml",
        lambda text: text.replace("apiVersion: v1\n", "apiVersion: example.com/v1\n"),
        "Couldn't find schema for kind Service",
    ),
    "no readOnlyRootFilesystem": (
        "deploy/kubernetes/base/pod-security.yaml",
        lambda text: text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
        "CKV_K8S_22",
    ),
    "a token mounted": (
        "deploy/kubernetes/base/deployment.yaml",
        lambda text: text.replace("automountServiceAccountToken: false", "automountServiceAccountToken: true"),
        "CKV_K8S_38",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_lint_fails_on_a_broken_property(repo_copy, case):
    name, edit, expected = BROKEN[case]
    path = repo_copy / name
    broken = edit(path.read_text())
    assert broken != path.read_text(), "the edit changed nothing"
    path.write_text(broken)

    result = make(repo_copy, "lint-kubernetes", f"LINT_VENV={REPO / '.cache' / 'lint-venv'}")

    assert result.returncode != 0
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr


# ---- On a real engine: podman kube play ----------------------------------------
#
# What podman 4.3 (Debian 12) honours of the rendered pods, and so what this
# test verifies: the image, the command, envFrom from the ConfigMap and from a
# secret, runAsUser/runAsGroup, readOnlyRootFilesystem with the emptyDir at
# /tmp, the dropped capabilities, no privilege escalation, seccomp, and the
# memory limit. What it does not, and so what is not verified here: probes (it
# turns the liveness probe into a healthcheck that runs `curl` in the image,
# which has none, on port 0 for a named port, and only under systemd; the test
# asks each probe's path itself), preStop and the grace period, runAsNonRoot's
# refusal of root, and the cluster's own objects (Service, PodDisruptionBudget,
# HorizontalPodAutoscaler, NetworkPolicy). It runs no Job either: the Job's pod
# template runs as a Pod. Each pod takes a loopback port for the test to reach.

# podman as root asks for a million open files, more than this sandbox allows;
# and there is neither journald nor syslog to log to.
CONTAINERS_CONF = """
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
events_logger = "file"
"""


class Podman:
    """Runs podman with the test's containers.conf; remove() removes what it was told it created."""

    def __init__(self, conf):
        assert shutil.which("podman"), "podman is needed: `apt-get install podman catatonit` (.ci/run does)"
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.created = []

    def __call__(self, *args, check=True, **kwargs):
        result = subprocess.run(["podman", *args], capture_output=True, text=True, env=self.env, timeout=300, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def load(self, docker_image):
        """Copies an image from Docker's store; returns its name in podman's."""
        with subprocess.Popen(["docker", "save", docker_image], stdout=subprocess.PIPE) as saved:
            loaded = self("load", stdin=saved.stdout).stdout
        assert saved.returncode == 0, f"docker save {docker_image} failed"
        return re.search(r"Loaded image(?:\(s\))?: (\S+)", loaded).group(1)

    def play(self, network, *documents):
        self("kube", "play", "--network", network, "-", input=yaml.safe_dump_all(documents))

    def remove(self):
        for kind, name in reversed(self.created):
            options = {"pod": ["--force"], "container": ["--force", "--volumes"], "image": ["--force"]}
            self(kind, "rm", *options.get(kind, []), name, check=False)


def as_pod(manifests, kind, name, image, **container_changes):
    """The pod template of a rendered Deployment or Job as a Pod, running image."""
    spec = json.loads(json.dumps(pod(manifests, kind)))
    spec["containers"][0] |= {"image": image, **container_changes}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def podman(tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    engine = Podman(conf)
    yield engine
    engine.remove()


def test_podman_runs_the_migration_and_then_the_deployments_pod(podman, harness_image):
    created = podman.created
    manifests = render(KUSTOMIZATIONS[0])
    # The prod image with the harness's routes, for a write through the API that needs no example.
    image, postgres = podman.load(harness_image), podman.load(compose_image("db"))
    created += [("image", postgres), ("image", image)]
    network = unique_name("kube")
    podman("network", "create", network)
    created.append(("network", network))
    database = unique_name("db")
    environment = local_database()[0]
    user = environment["POSTGRES_USER"]
    credentials = [f"--env={name}={value}" for name, value in environment.items()]
    podman("run", "--detach", "--name", database, "--network", network, "--network-alias", "db", *credentials, postgres)
    created.append(("container", database))
    deadline = time.monotonic() + 60
    while podman("exec", database, "pg_isready", "--host=127.0.0.1", f"--username={user}", check=False).returncode:
        assert time.monotonic() < deadline, podman("logs", database).stderr
        time.sleep(0.5)
    # The Secret, created out of band; podman 4.3 reads it as JSON of base64 values.
    secret = secret_values()
    podman("secret", "rm", secret_name(manifests), check=False)
    encoded = {name: base64.b64encode(value.encode()).decode() for name, value in secret.items()}
    podman("secret", "create", secret_name(manifests), "-", input=json.dumps(encoded))
    created.append(("secret", secret_name(manifests)))

    migrate = unique_name("migrate")
    created.append(("pod", migrate))
    podman.play(network, manifests["ConfigMap"], as_pod(manifests, "Job", migrate, image))
    job = f"{migrate}-{container(manifests, 'Job')['name']}"
    assert podman("wait", job).stdout.strip() == "0", podman("logs", job).stderr
    assert re.search(r"Applying \w+\.0001_initial\.\.\. OK", podman("logs", job).stdout)

    # One pod: podman would give each replica its own pod, all asking for the same host ports.
    web, spec = unique_name("web"), container(manifests, "Deployment")
    created.append(("pod", web))
    published = [entry | {"hostIP": "127.0.0.1", "hostPort": free_port()} for entry in spec["ports"]]
    podman.play(network, manifests["ConfigMap"], as_pod(manifests, "Deployment", web, image, ports=published))
    host_ports = {entry["name"]: entry["hostPort"] for entry in published}
    url, app = f"http://127.0.0.1:{host_ports['http']}", f"{web}-{spec['name']}"

    wait_for_http(f"{url}/healthz", timeout=60)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        asked = spec[probe]["httpGet"]
        probe_url = f"http://127.0.0.1:{host_ports[asked['port']]}{asked['path']}"
        assert http("GET", probe_url)[0] == 200, f"{probe} asks {asked['path']} on port {asked['port']}"
    # A host name from the ConfigMap: Django would refuse any other.
    host = manifests["ConfigMap"]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    token = create_token(lambda *command: podman("exec", app, *command))
    posted = {"from": "the pod"}
    status, _, record = http("POST", f"{url}/harness/records/", posted, headers={"Host": host}, token=token)
    assert (status, record.get("received")) == (201, posted), record
    # Written to the PostgreSQL the Secret names: the harness's rows are in the tokens' table.
    psql = ["exec", database, "psql", f"--username={user}", "--no-align", "--tuples-only", "--command"]
    written = podman(*psql, f"SELECT name FROM api_token WHERE id = {int(record['id'])}").stdout
    assert written.startswith("harness-"), written

    status = podman("exec", app, "cat", "/proc/self/status").stdout
    fields = dict(line.split(":\t", 1) for line in status.splitlines())
    assert fields["Uid"].split()[0] == fields["Gid"].split()[0] == "10001"
    assert (fields["CapEff"], fields["NoNewPrivs"], fields["Seccomp"]) == ("0000000000000000", "1", "2")
    # The root's own mount flag: a failed write to a root-owned folder would say
    # only that the app user may not write there, which is so on a writable root too.
    assert "ro" in root_mount_options(lambda *command: podman("exec", app, *command)), "the root is mounted writable"
    podman("exec", app, "touch", "/tmp/written")
    # The exporter writes nothing, the workers' files are in the emptyDir at /tmp: the POST above is counted.
    with urllib.request.urlopen(f"http://127.0.0.1:{host_ports['metrics']}/metrics", timeout=10) as response:
        assert 'route="/harness/records/",status="201"} 1.0' in response.read().decode()
    limit = spec["resources"]["limits"]["memory"]
    assert limit.endswith("Mi"), limit
    assert podman("inspect", "--format", "{{.HostConfig.Memory}}", app).stdout.strip() == str(int(limit[:-2]) * 2**20)
