// Package testutil holds helpers shared by slipway's tests: golden files
// with an -update flag, and building a repository the way the CLI does.
// Test code only.
package testutil
