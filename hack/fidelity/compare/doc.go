// Package compare holds the fidelity harness's pure logic: it pairs the
// objects the Flux CLI builds for a Kustomization with the ones slipway
// builds, and classifies every difference as explained (a named reason:
// a documented difference between the Flux CLI's dry-run and what the
// controllers apply, or an expectation a fixture declares) or not.
//
// It runs no process and reads no file: hack/fidelity does that. It must
// never print a Secret's values: a difference inside a Secret is reported
// by its field path only.
package compare
