// Package build turns a cluster path into exactly the objects Flux would
// apply: the cluster path is built as the root Kustomization of a
// bootstrapped cluster, and every Flux Kustomization found in an output is
// built in turn from its source, with Flux's kustomize generator, SOPS
// decryption and post-build substitution, in that order.
//
// Builds run on a filesystem locked to the source root, with kustomize
// plugins off and remote bases refused unless allowed. The package never
// talks to a cluster and never prints; it returns result values. Besides
// the declared sources, it contacts only the SOPS key services a file's
// keys name, with the credentials it was given for them (sopskeys.go).
package build
