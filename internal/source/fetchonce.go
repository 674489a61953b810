package source

import "sync"

// fetchOnce runs each fetch of a run once per key: concurrent callers wait
// for the one running, later ones get its result — errors included, so a
// source that failed is not asked again in the same run. The Git, OCI and
// Bucket fetchers share it.
type fetchOnce struct {
	mu       sync.Mutex
	inflight map[string]*fetched
}

// fetched is one fetch's outcome.
type fetched struct {
	done     chan struct{}
	dir, rev string
	err      error
}

// do returns the outcome of fill for key, running it only the first time.
func (o *fetchOnce) do(key string, fill func() (dir, rev string, err error)) (string, string, error) {
	o.mu.Lock()
	if o.inflight == nil {
		o.inflight = map[string]*fetched{}
	}
	if g, ok := o.inflight[key]; ok {
		o.mu.Unlock()
		<-g.done
		return g.dir, g.rev, g.err
	}
	g := &fetched{done: make(chan struct{})}
	o.inflight[key] = g
	o.mu.Unlock()
	g.dir, g.rev, g.err = fill()
	close(g.done)
	return g.dir, g.rev, g.err
}
