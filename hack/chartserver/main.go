// Command chartserver serves the example fleet's remote charts (see
// testdata/charts/README.md) and runs a command with HTTP_PROXY pointing at
// it, so slipway reaches http://charts.example.test and
// oci://registry.example.test as it would reach real remote sources:
//
//	go run ./hack/chartserver -- bin/slipway build --repo testdata/fleet
//
// Without a command it serves until interrupted and prints the proxy URL.
// The exit code is the command's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartserver:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run() (int, error) {
	charts := flag.String("charts", "testdata/charts", "directory holding the example charts")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: chartserver [-charts DIR] [-listen ADDR] [-- command args...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	opts := chartserver.Example(*charts)
	opts.Listen = *listen
	s, err := chartserver.Start(opts)
	if err != nil {
		return 1, err
	}
	defer s.Close()
	if flag.NArg() == 0 {
		fmt.Printf("serving %s and %s; export HTTP_PROXY=%s\n", s.HTTPRepositoryURL(), s.OCIRepositoryURL(), s.ProxyURL())
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return 0, nil
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "HTTP_PROXY="+s.ProxyURL(), "http_proxy="+s.ProxyURL())
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
