package helm

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/ignore"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

type ioWriter = io.Writer

func yamlUnmarshal(data []byte, v any) error { return yaml.Unmarshal(data, v) }
func yamlMarshal(v any) ([]byte, error)      { return yaml.Marshal(v) }

// packagedModTime is the modification time written into charts slipway
// packages, so that packaging the same files twice gives the same bytes
// (and the same digest) on every machine.
var packagedModTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// packageChart writes c as a .tgz to w with Helm's own packager.
func packageChart(c *chart.Chart, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "slipway-chart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := chartutil.Save(c, tmp)
	if err != nil {
		return fmt.Errorf("packaging chart %s: %w", c.Name(), err)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// loadChartDir loads an unpacked chart at dir (absolute, under a source
// root), reading every file through fsys, which is locked to the source
// root: a symlink in a chart cannot read outside it. .helmignore is
// honoured as Helm does.
func loadChartDir(fsys filesys.FileSystem, dir string) (*chart.Chart, error) {
	rules := ignore.Empty()
	if data, err := fsys.ReadFile(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		r, err := ignore.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ignore.HelmIgnore, err)
		}
		rules = r
	}
	rules.AddDefaults()
	var files []*archive.BufferedFile
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rules.Ignore(rel, fi) {
				return filepath.SkipDir
			}
			return nil
		}
		if rules.Ignore(rel, fi) {
			return nil
		}
		if fi.Size() > archive.MaxDecompressedFileSize {
			return fmt.Errorf("chart file %s is larger than %d bytes", rel, archive.MaxDecompressedFileSize)
		}
		data, err := fsys.ReadFile(p)
		if err != nil {
			// Symlinked directories and links out of the source are refused.
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		total += int64(len(data))
		if total > archive.MaxDecompressedChartSize {
			return fmt.Errorf("chart is larger than %d bytes", archive.MaxDecompressedChartSize)
		}
		data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
		files = append(files, &archive.BufferedFile{Name: rel, ModTime: packagedModTime, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// checkDependencies reports dependencies declared in Chart.yaml that are not
// vendored in charts/: slipway does not download dependencies of charts
// from Git (source-controller would).
func checkDependencies(c *chart.Chart) error {
	have := map[string]bool{}
	for _, d := range c.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range c.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dependencies %s are declared in Chart.yaml but not vendored in charts/ (run helm dependency build and commit charts/)", strings.Join(missing, ", "))
	}
	return nil
}
