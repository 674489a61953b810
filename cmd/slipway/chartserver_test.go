package main

import (
	"os"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
)

// runMainEnv makes the test binary run slipway's main instead of the
// tests, so a test can start slipway as a process and signal it without
// building a second binary.
const runMainEnv = "SLIPWAY_TEST_RUN_MAIN"

// The example fleet's HelmReleases fetch charts from http://charts.example.test
// and oci://registry.example.test; serve them on loopback behind HTTP_PROXY.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		code := runMain()
		recordPeakRSS(os.Getenv(peakRSSFileEnv))
		os.Exit(code)
	}
	os.Exit(chartserver.Main(m))
}
