# The load generator for `make loadtest`: wrk from Debian's packages.
FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends wrk \
 && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["wrk"]
