# The prod image with the test-only routes of tests/harness: for the host-side
# tests of the machinery, which must not need the example (make remove-example).
ARG PROD_IMAGE
FROM ${PROD_IMAGE}
COPY . harness/
ENV DJANGO_SETTINGS_MODULE=harness.settings
