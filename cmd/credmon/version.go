package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/credmon/credmon/cmd/credmon/web"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() { register("version", "print version, commit and Go version", cmdVersion) }

func cmdVersion(_ context.Context, env *cliEnv, _ []string) int {
	fmt.Fprintf(env.stdout, "credmon %s\ncommit %s\n%s %s/%s\n", version, web.Revision(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
