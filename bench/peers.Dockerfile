# `make loadtest` only: the prod image plus gunicorn and granian, to serve the
# same app with the servers other templates choose. Neither reaches the prod image.
ARG PROD_IMAGE
# The prod image's own Python base (loadtest.py reads it from the Dockerfile).
ARG PYTHON_IMAGE

# install: pip is in the Python image, not in prod; the folder it fills runs
# under prod's interpreter (granian's wheel is built for the same Python).
FROM ${PYTHON_IMAGE} AS install
COPY requirements-peers.txt /tmp/
RUN pip install --root-user-action=ignore --no-cache-dir --require-hashes \
        --target /opt/peers -r /tmp/requirements-peers.txt

FROM ${PROD_IMAGE}
COPY --from=install /opt/peers /opt/peers
# Beside prod's venv, which keeps Django and psycopg2: run as `python -m gunicorn`, `python -m granian`.
ENV PYTHONPATH=/opt/peers
