# Local test cluster targets. Include from the main Makefile:
#
#   include hack/cluster/cluster.mk
#
#   make cluster-bin                   build the control plane + kwok binaries
#   make cluster-up   [CLUSTER_NAME=x] start a cluster, print its kubeconfig
#   make cluster-down [CLUSTER_NAME=x] stop it and remove its state
#
# See hack/cluster/up.sh for the environment variables that tune them.

CLUSTER_NAME ?= slipway-dev
# Folder of this file, resolved when it is included.
SLIPWAY_CLUSTER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: cluster-bin cluster-up cluster-down

cluster-bin:
	$(SLIPWAY_CLUSTER_DIR)/build.sh

cluster-up:
	$(SLIPWAY_CLUSTER_DIR)/up.sh $(CLUSTER_NAME)

cluster-down:
	$(SLIPWAY_CLUSTER_DIR)/down.sh $(CLUSTER_NAME)
