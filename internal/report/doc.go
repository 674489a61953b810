// Package report renders slipway's result model: build output as YAML or
// JSON (one stream per cluster path, or one file per Kustomization), and
// findings as text or JSON. Every renderer masks Secret values; none of them
// computes anything the result does not already hold.
package report
