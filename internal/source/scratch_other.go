//go:build !linux

package source

// scratchDir is the default temporary directory outside Linux.
func scratchDir() string { return "" }
