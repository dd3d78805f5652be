# The tunecheck container image: a static binary on distroless, run as non-root.
#
#   docker build -t tunecheck --build-arg VERSION=v1.2.3 --build-arg COMMIT="$(git rev-parse HEAD)" .
#   docker run --rm -v "$PWD:/work" --user "$(id -u):$(id -g)" tunecheck run tunecheck.yaml
#
# The build stage runs on the build machine's platform and cross-compiles for
# the target (docker buildx build --platform linux/amd64,linux/arm64 works
# without emulation): CGO_ENABLED=0 and the pure-Go SQLite driver make one
# static binary, so the final image holds it and nothing else but CA
# certificates (for HTTPS to model APIs), tzdata and a nonroot user.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Set by BuildKit to the platform being built (empty: the build machine's).
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/tunecheck/tunecheck/internal/cli.Version=$VERSION -X github.com/tunecheck/tunecheck/internal/cli.Commit=$COMMIT" \
      -o /out/tunecheck ./cmd/tunecheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tunecheck /usr/local/bin/tunecheck
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/tunecheck"]
CMD ["--help"]
