// Package report renders slipway's result model: build output as YAML or
// JSON (one stream per cluster path, or one file per Kustomization),
// findings as text or JSON, diffs as text, markdown or JSON, and findings and
// diffs as one self-contained HTML page that loads nothing. Every renderer
// masks Secret values; none of them computes anything the result does not
// already hold.
package report
