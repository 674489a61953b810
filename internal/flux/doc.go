// Package flux types the Flux objects slipway reads from a build output
// (Kustomization, GitRepository, ArtifactGenerator, ...) with Flux's own API
// modules, and orders Kustomizations by dependsOn.
//
// It holds no I/O: objects come in as unstructured values and leave typed.
package flux
