"""What a release publishes besides the image itself: its OCI labels and its SBOM."""

import json
import re
from urllib.parse import unquote

from docker_helpers import IMAGE, REPO, docker, locked_packages, make

LABEL = "org.opencontainers.image."
FIXED_LABELS = {
    # The project's name, the Makefile's default image name: `make rename` changes both.
    "title": re.search(r"^IMAGE \?= (\w+)$", (REPO / "Makefile").read_text(), re.MULTILINE)[1],
    "description": "A Django JSON API for notes, served by uWSGI",
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
