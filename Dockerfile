# credmon: a static binary on a distroless base.
FROM golang:1.26.10 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/credmon ./cmd/credmon

# alpine rather than distroless: healthchecks need wget.
FROM alpine:3.22
RUN adduser -D -H -u 10001 credmon
COPY --from=build /out/credmon /usr/local/bin/credmon
USER credmon
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/credmon"]
CMD ["run", "-config", "/etc/credmon"]
