# acr-index container image.
#
#   docker build -t acr-index:0.1.0 .
#   az acr build -r myregistry -t acr-index:0.1.0 .
#
# The base images can be swapped (a mirror, an air-gapped registry):
#   --build-arg RUST_IMAGE=... --build-arg RUNTIME_IMAGE=...
# Names are fully qualified so that podman and buildah, which do not assume
# docker.io, resolve them as docker does. A runtime image other than
# distroless must provide CA certificates and a glibc compatible with
# Debian 12 (bookworm), e.g. debian:bookworm-slim with ca-certificates.
ARG RUST_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS builder
WORKDIR /build

# 1. Dependencies only, cached until Cargo.toml or Cargo.lock change: build
#    a placeholder crate with the real manifest and lock file, then drop the
#    placeholder's own artifacts so that step 2 cannot mistake them for
#    up to date (COPY keeps the host's older file times).
COPY Cargo.toml Cargo.lock ./
RUN set -eux; \
    mkdir -p src; \
    echo 'fn main() {}' > src/main.rs; \
    for path in $(sed -n 's/^path *= *"\(.*\)"/\1/p' Cargo.toml); do \
        mkdir -p "$(dirname "$path")"; \
        [ -e "$path" ] || echo 'fn main() {}' > "$path"; \
    done; \
    cargo build --release --locked; \
    cargo clean --release --locked -p acr-index; \
    rm -rf src

# 2. The crate itself (.dockerignore keeps target/, .git and databases out,
#    so the commit `acr-index version` prints comes from --build-arg REVISION).
COPY . .
ARG REVISION=unknown
RUN set -eux; \
    ACR_INDEX_COMMIT="${REVISION}" cargo build --release --locked; \
    install -D -m 0755 target/release/acr-index /out/usr/local/bin/acr-index; \
    install -d -m 0755 -o 65532 -g 65532 /out/data; \
    /out/usr/local/bin/acr-index --help >/dev/null

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="acr-index" \
      org.opencontainers.image.description="Index a container registry's image labels and annotations into SQLite" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /out/ /
# /data is owned by the non-root user so that `docker run` works without a
# volume; in Kubernetes the PersistentVolumeClaim is mounted over it.
WORKDIR /data
ENV ACR_INDEX_DB=/data/acr-index.db
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/acr-index"]
CMD ["--help"]
