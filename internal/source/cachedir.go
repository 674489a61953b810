package source

import (
	"os"
	"path/filepath"
)

// cachedTree returns cacheDir/key, filling it first when it is missing:
// fill writes into a private temporary directory and returns the tree to
// keep (that directory or one inside it), which is then renamed into place
// in one step, so a reader never sees half a tree. Processes sharing a
// cache (CI jobs restoring one actions/cache) may fill the same key at
// once; the first rename wins and the others use its tree.
func cachedTree(cacheDir, key, prefix string, fill func(tmp string) (string, error)) (string, error) {
	dir := filepath.Join(cacheDir, key)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, prefix)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	tree, err := fill(tmp)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tree, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // another process won the race
		}
		return "", err
	}
	return dir, nil
}
