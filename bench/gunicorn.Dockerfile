# `make loadtest` only: the prod image plus gunicorn, to serve the same app with
# the server other templates choose. gunicorn never reaches the prod image.
ARG PROD_IMAGE
# The prod image's own Python base (loadtest.py reads it from the Dockerfile).
ARG PYTHON_IMAGE

# install: pip is in the Python image, not in prod; gunicorn is pure Python, so
# a folder of it runs under prod's interpreter.
FROM ${PYTHON_IMAGE} AS install
COPY requirements-gunicorn.txt /tmp/
RUN pip install --root-user-action=ignore --no-cache-dir --require-hashes \
        --target /opt/gunicorn -r /tmp/requirements-gunicorn.txt

FROM ${PROD_IMAGE}
COPY --from=install /opt/gunicorn /opt/gunicorn
# Beside prod's venv, which keeps Django and psycopg2: run as `python -m gunicorn`.
ENV PYTHONPATH=/opt/gunicorn
