// Package result holds slipway's one result model: the objects a cluster path
// builds to, where each came from, and the findings raised about them.
//
// Every stage fills these values and every renderer (text, YAML, JSON,
// markdown, GitHub) reads them. The package must not do I/O or render.
package result
