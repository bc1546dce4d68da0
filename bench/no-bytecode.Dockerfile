# `make loadtest` only: the prod image without the bytecode compiled at build
# time, as it would be without that step: Docker Hub's python images ship no
# bytecode for the standard library, and the app's code is not compiled. Only
# the venv keeps the bytecode pip wrote while installing.
ARG PROD_IMAGE
FROM ${PROD_IMAGE}
USER 0
RUN find / -xdev -path /opt/venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
USER 10001:10001
