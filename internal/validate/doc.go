// Package validate runs slipway's checks over built cluster paths. Each
// check is a small type in a file of its own; adding a check means adding a
// file and listing it in DefaultChecks. Checks only read the build result
// and return findings; they never touch a cluster or the network.
package validate
