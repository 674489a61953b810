package report_test

import (
	"os"
	"testing"

	"github.com/slipwayhq/slipway/internal/testutil/chartserver"
)

// The browser tests diff the example fleet, whose HelmReleases fetch charts
// from http://charts.example.test and oci://registry.example.test: serve
// them on loopback behind HTTP_PROXY.
func TestMain(m *testing.M) { os.Exit(chartserver.Main(m)) }
