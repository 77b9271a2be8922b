// Command floor is the floor of bench/scale's binary mode: a bare net/http
// keep-alive loop making the requests credmon's checks make, as a program
// of its own. It is built apart from bench/scale, which links the whole
// daemon for its in-process mode, so that its RSS is a bare loop's and not
// that of a binary carrying credmon's code.
//
//	floor -target 127.0.0.1:PORT -checks 1000 -every 10s   (key in $SCALE_BEARER)
//
// It sends -checks requests per -every, evenly spread, to
// /v1/account/<i>, until SIGTERM or SIGINT (the driver sends SIGTERM).
package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	target := flag.String("target", "", "the target's address (host:port)")
	checks := flag.Int("checks", 1000, "requests per interval, one path each")
	every := flag.Duration("every", 10*time.Second, "interval")
	flag.Parse()
	key := os.Getenv("SCALE_BEARER")
	if *target == "" || key == "" || *checks < 1 || *every <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	work := make(chan int, 1024)
	for range 64 {
		go func() {
			for i := range work {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+*target+"/v1/account/"+strconv.Itoa(i), nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	interval := *every / time.Duration(*checks)
	next := time.Now()
	for i := 0; ctx.Err() == nil; i = (i + 1) % *checks {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
}
