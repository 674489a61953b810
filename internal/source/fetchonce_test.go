package source

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFetchOnce(t *testing.T) {
	var o fetchOnce
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, rev, err := o.do("k", func() (string, string, error) {
				runs.Add(1)
				<-release
				return "/cache/k", "sha1:abc", nil
			})
			if dir != "/cache/k" || rev != "sha1:abc" || err != nil {
				t.Errorf("do = %q %q %v", dir, rev, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("fill ran %d times for one key", runs.Load())
	}
	// A failure is remembered for the run: the source is not asked again.
	boom := errors.New("unreachable")
	for i := 0; i < 2; i++ {
		if _, _, err := o.do("bad", func() (string, string, error) { runs.Add(1); return "", "", boom }); !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("a failed fetch ran again (%d runs)", runs.Load())
	}
}
