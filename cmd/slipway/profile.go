package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the run to the file
// SLIPWAY_CPUPROFILE names, for performance work on the real binary
// (process start-up and all). The returned function stops it.
func startProfile(getenv env, errw func(error)) func() {
	p := getenv("SLIPWAY_CPUPROFILE")
	if p == "" {
		return func() {}
	}
	f, err := os.Create(p)
	if err != nil {
		errw(fmt.Errorf("SLIPWAY_CPUPROFILE: %w", err))
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		errw(fmt.Errorf("SLIPWAY_CPUPROFILE: %w", err))
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
