"""Prints a CycloneDX SBOM of the image this runs in: its Python and its Debian packages.

`make sbom` runs it inside the prod image, with the release tools
(requirements-release.txt) mounted in a folder given as the first argument:
    python sbom.py TOOLS IMAGE
The Python part is cyclonedx-py's reading of the image's own environment, the
Debian part comes from dpkg's database; the result is validated against the
CycloneDX schema before it is printed.
"""

import json
import subprocess
import sys

SPEC_VERSION = "1.6"


def python_packages(tools):
    """cyclonedx-py's SBOM of the venv whose interpreter runs this script."""
    # `python -m` in the tools folder finds cyclonedx_py there through the current
    # folder, not PYTHONPATH: the interpreter that cyclonedx-py then asks for the
    # environment's sys.path inherits the environment and would list the tools too.
    command = [sys.executable, "-m", "cyclonedx_py", "environment", "--spec-version", SPEC_VERSION, sys.executable]
    return json.loads(subprocess.run(command, cwd=tools, stdout=subprocess.PIPE, text=True, check=True).stdout)


def debian_packages(package_url):
    """A CycloneDX component for each installed Debian package, with its package URL."""
    os_release = dict(
        line.split("=", 1) for line in open("/etc/os-release", encoding="utf-8").read().splitlines() if "=" in line
    )
    distro = os_release["VERSION_CODENAME"]
    fields = "${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n"
    listing = subprocess.run(["dpkg-query", "--show", f"--showformat={fields}"], capture_output=True, text=True)
    listing.check_returncode()
    components = []
    for line in listing.stdout.splitlines():
        name, version, architecture, status = line.split("\t")
        if status != "installed":  # removed, with only its configuration files left
            continue
        qualifiers = {"arch": architecture, "distro": distro}
        purl = package_url("deb", "debian", name, version, qualifiers).to_string()
        components.append({"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl})
    return components


def main(tools, image):
    sys.path.insert(0, tools)  # in this process only
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from packageurl import PackageURL

    bom = python_packages(tools)
    bom["components"] = bom.get("components", []) + debian_packages(PackageURL)
    bom["metadata"]["component"] = {"type": "container", "bom-ref": image, "name": image}
    text = json.dumps(bom, indent=2)
    error = JsonStrictValidator(SchemaVersion.from_version(SPEC_VERSION)).validate_str(text)
    if error:
        sys.exit(f"The SBOM is not valid CycloneDX {SPEC_VERSION}: {error}")
    print(text)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python sbom.py TOOLS IMAGE")
    main(*sys.argv[1:])
