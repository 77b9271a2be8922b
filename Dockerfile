# credmon: a static binary on a distroless base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/credmon ./cmd/credmon

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/credmon /usr/local/bin/credmon
USER nonroot
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/credmon"]
CMD ["run", "-config", "/etc/credmon"]
