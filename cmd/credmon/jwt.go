package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/jwt"
)

func init() {
	register("jwt", "[TOKEN|-]: decode a JWT (header, claims, dates), never trusting it; - reads stdin", cmdJWT)
}

func cmdJWT(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("jwt", env)
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	var token string
	switch {
	case fs.NArg() == 0 || fs.Arg(0) == "-":
		// stdin keeps the token out of shell history and the process list.
		line, err := bufio.NewReader(io.LimitReader(env.stdin, 1<<20)).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(env.stderr, "credmon jwt: reading stdin: %v\n", err)
			return exitBadConfig
		}
		token = line
	case fs.NArg() == 1:
		token = fs.Arg(0)
	default:
		fmt.Fprintln(env.stderr, "usage: credmon jwt [TOKEN|-]")
		return exitBadConfig
	}
	token = strings.TrimSpace(token)
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
	tok, err := jwt.Decode(token)
	if errors.Is(err, jwt.ErrEncrypted) && tok != nil {
		// A JWE: only its header can be read without the key.
		fmt.Fprint(env.stdout, tok.Describe(time.Now()))
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon jwt: %v\n", err)
		return exitBadConfig
	}
	fmt.Fprint(env.stdout, tok.Describe(time.Now()))
	return exitOK
}
