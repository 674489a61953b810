// Package uninstall removes slipway's footprint from a cluster: the
// inventories and locks deploy wrote, slipway's own system objects
// (bootstrap's deployer identity) and, for a full uninstall, the
// slipway-system namespace. Deployed objects keep running and only lose
// their ApplySet label, unless Prune deletes them in reverse apply order.
//
// It reads deploy's records through deploy's exported names (ReadInventory,
// AcquireLock, ApplySetID…) and never prints: steps go to an Observer, the
// outcome comes back as a result.Uninstall.
package uninstall
