"""What a release publishes besides the image itself (its OCI labels and its SBOM), and the shape
of the workflows that build it: each platform on a runner of its own architecture, never emulated.
"""

import fnmatch
import json
import re
from urllib.parse import unquote

import pytest
import yaml
from docker_helpers import IMAGE, REPO, docker, locked_packages, make

LABEL = "org.opencontainers.image."
FIXED_LABELS = {
    # The project's name, the Makefile's default image name: `make rename` changes both.
    "title": re.search(r"^IMAGE \?= (\w+)$", (REPO / "Makefile").read_text(), re.MULTILINE)[1],
    "description": "notes: a Django JSON API served by uWSGI",
    "licenses": "MIT-0",
}


def oci_labels(image):
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout) or {}
    return {name.removeprefix(LABEL): value for name, value in labels.items() if name.startswith(LABEL)}


def test_a_local_build_without_build_arguments_is_labelled_with_the_fixed_values(prod_image):
    assert oci_labels(prod_image) == {
        **FIXED_LABELS,
        **dict.fromkeys(["source", "version", "revision", "created"], ""),
    }


def test_the_release_build_arguments_fill_in_the_variable_labels(prod_image):
    variable = {
        "source": "https://github.com/example/notes",
        "version": "1.2.3",
        "revision": "0123456789abcdef0123456789abcdef01234567",
        "created": "2026-11-29T20:00:00Z",
    }
    build_args = [arg for name, value in variable.items() for arg in ("--build-arg", f"{name.upper()}={value}")]
    tag = f"{IMAGE}:prod-labelled"
    docker("build", "--quiet", "--target", "prod", *build_args, "--tag", tag, str(REPO))
    try:
        assert oci_labels(tag) == {**FIXED_LABELS, **variable}
    finally:
        docker("image", "rm", tag, check=False)


def installed_debian_packages(image):
    """(name, version) of each Debian package installed in the image, as dpkg lists them."""
    fields = "${Package} ${Version} ${db:Status-Status}\n"
    listing = docker("run", "--rm", image, "dpkg-query", "--show", f"--showformat={fields}").stdout.splitlines()
    return sorted((name, version) for name, version, status in map(str.split, listing) if status == "installed")


def components(sbom, purl_type):
    """(name, version) of each component of the SBOM whose package URL is of that type, sorted."""
    found = []
    for component in sbom["components"]:
        purl = re.fullmatch(rf"pkg:{purl_type}/(?:[^/]+/)?([^/@]+)@([^?#]+)(?:\?.*)?", component["purl"])
        if purl:
            found.append((unquote(purl[1]), unquote(purl[2])))
    return sorted(found)


def test_make_sbom_lists_exactly_the_locked_python_packages_and_the_debian_packages(prod_image, tmp_path):
    sbom_file = tmp_path / "sbom.cdx.json"
    result = make(REPO, "sbom", f"IMAGE={IMAGE}", f"SBOM={sbom_file}", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr

    sbom = json.loads(sbom_file.read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    assert components(sbom, "pypi") == sorted(locked_packages().items())
    assert components(sbom, "deb") == installed_debian_packages(prod_image)


WORKFLOWS = ["ci.yml", "release.yml"]
AMD64_RUNNER = "ubuntu-24.04"
# GitHub's arm64 runner, unless the repository variable names another (docs/release.md).
ARM64_RUNNER = "${{ vars.ARM64_RUNNER || 'ubuntu-24.04-arm' }}"
ARCHITECTURES = {AMD64_RUNNER: "amd64", ARM64_RUNNER: "arm64"}


def workflow(name):
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def steps_using(job, action):
    return [step for step in job["steps"] if step.get("uses", "").partition("@")[0] == action]


def steps_running(job, command):
    return [step for step in job["steps"] if command in step.get("run", "")]


def scripts(job):
    return "\n".join(step.get("run", "") for step in job["steps"])


def output(step, name):
    """The expression that reads a step's output."""
    return "${{ steps." + step["id"] + ".outputs." + name + " }}"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment(name):
    text = (REPO / ".github" / "workflows" / name).read_text()
    pins = re.findall(r"^\s*(?:- )?uses: (.*)$", text, re.MULTILINE)

    assert pins
    assert [pin for pin in pins if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", pin)] == []


@pytest.mark.parametrize("name", WORKFLOWS)
def test_nothing_is_emulated_nor_built_for_two_platforms_at_once(name):
    for job_name, job in workflow(name)["jobs"].items():
        mentions = re.findall(r"[\w/-]*(?:qemu|binfmt)[\w/-]*", json.dumps(job), re.IGNORECASE)
        assert mentions == [], f"{job_name} sets up emulation"
        for build in steps_using(job, "docker/build-push-action"):
            assert "," not in build["with"].get("platforms", ""), f"{job_name} builds several platforms in one"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_a_job_may_write_packages_only_to_push_and_get_an_oidc_token_only_to_sign(name):
    document = workflow(name)
    assert document["permissions"] == {}
    for job_name, job in document["jobs"].items():
        expected = {"contents": "read"} if steps_using(job, "actions/checkout") else {}
        if steps_using(job, "docker/login-action"):
            expected["packages"] = "write"
        if steps_running(job, "cosign sign"):
            expected["id-token"] = "write"
        assert job["permissions"] == expected, job_name


def test_each_release_build_runs_on_its_own_architecture_and_pushes_by_digest():
    build = workflow("release.yml")["jobs"]["build"]
    [push] = steps_using(build, "docker/build-push-action")
    options = push["with"]
    outputs = dict(option.partition("=")[::2] for option in options["outputs"].split(","))
    [upload] = steps_using(build, "actions/upload-artifact")

    legs = build["strategy"]["matrix"]["include"]
    assert {leg["runner"]: leg["arch"] for leg in legs} == ARCHITECTURES
    assert (build["runs-on"], options["platforms"]) == ("${{ matrix.runner }}", "linux/${{ matrix.arch }}")
    flags = ["push-by-digest", "name-canonical", "push", "oci-mediatypes"]
    expected = {"type": "image", **dict.fromkeys(flags, "true")}
    assert {key: outputs.get(key) for key in expected} == expected
    assert (options["sbom"], options["provenance"]) == (True, "mode=max")
    # Untagged (the merge tags the index), and built from nothing but the commit (docs/release.md).
    assert not {"tags", "cache-from", "cache-to"} & options.keys()
    assert "${{ matrix.arch }}" in upload["with"]["name"]


def test_the_merge_waits_for_both_builds_and_signs_the_index_it_pushed():
    jobs = workflow("release.yml")["jobs"]
    merge = jobs["merge"]
    [upload] = steps_using(jobs["build"], "actions/upload-artifact")
    [download] = steps_using(merge, "actions/download-artifact")
    [tags] = steps_using(merge, "docker/metadata-action")
    [index] = steps_running(merge, "docker buildx imagetools create")
    [sign] = steps_running(merge, "cosign sign")
    [verify] = steps_running(merge, "cosign verify")

    assert merge["needs"] == "build"
    for arch in ARCHITECTURES.values():
        artifact = upload["with"]["name"].replace("${{ matrix.arch }}", arch)
        assert fnmatch.fnmatchcase(artifact, download["with"]["pattern"]), artifact
    assert index["env"]["TAGS"] == output(tags, "tags")
    assert "--annotation=index:" in index["run"]
    assert sign["env"]["DIGEST"] == verify["env"]["DIGEST"] == output(index, "digest")
    assert '"$IMAGE@$DIGEST"' in sign["run"] and "GITHUB_STEP_SUMMARY" in verify["run"]
    assert [name for name, job in jobs.items() if "cosign" in scripts(job)] == ["merge"]


def test_ci_tests_the_dev_image_and_builds_prod_on_arm64_beside_amd64():
    document = workflow("ci.yml")
    # PyYAML reads the key `on` as true, YAML 1.1's boolean.
    assert {"push", "pull_request"} <= document[True].keys()
    jobs = document["jobs"]
    [arm64] = [job for job in jobs.values() if job["runs-on"] == ARM64_RUNNER]
    builds = steps_using(arm64, "docker/build-push-action")

    assert {job["runs-on"] for job in jobs.values()} == set(ARCHITECTURES)
    assert [build["with"]["target"] for build in builds] == ["dev", "prod"]
    dev = re.escape(builds[0]["with"]["tags"])
    assert "postgres" in arm64["services"]
    assert re.search(rf"^docker run .*-e DATABASE_URL=postgres://\S+@postgres:\S+ {dev}$", scripts(arm64), re.MULTILINE)


def test_each_ci_build_caches_in_a_scope_of_its_own_architecture():
    scopes = []
    for job in workflow("ci.yml")["jobs"].values():
        for build in steps_using(job, "docker/build-push-action"):
            if "cache-to" in build["with"]:
                scope = re.search(r"\bscope=([\w-]+)", build["with"]["cache-to"])[1]
                assert build["with"]["cache-from"] == f"type=gha,scope={scope}"
                assert scope.endswith(f"-{ARCHITECTURES[job['runs-on']]}"), scope
                scopes.append(scope)

    assert len(set(scopes)) == len(scopes) >= 3
