// Package report renders slipway's result model: build output as YAML or
// JSON (one stream per cluster path, or one file per Kustomization),
// findings as text or JSON, diffs as text, markdown or JSON, findings and
// diffs as one self-contained HTML page that loads nothing, and the
// markdown pieces of GitHub check runs, comments and job summaries
// (change, status and findings tables, the Mermaid graph of a cluster
// path). Every renderer masks Secret values (the GitHub pieces leave that
// to the action, which masks each assembled document); none of them
// computes anything the result does not already hold.
package report
